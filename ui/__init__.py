"""The Qt shell on top of `app`: views observe the controller's signals and never call each other."""
