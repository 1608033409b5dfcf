"""QtCore glue between app.core and the widgets: jobs, signals and item models. No widgets."""
