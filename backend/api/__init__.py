"""The client API the desktop app and the CLI use: queries for views, commands that publish jobs, events."""
