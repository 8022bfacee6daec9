class UserError(Exception):
    """A command that cannot be carried out; its message is shown to the user as is."""
