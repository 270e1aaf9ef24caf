"""Every HTML page for citizens and staff."""
