"""HTTP plumbing shared by every domain's api.py, and the web client's static files."""
