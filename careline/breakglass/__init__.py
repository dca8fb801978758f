"""Emergency intervention (break-glass): an admin freezes a conversation, removes a
participant, or reads a conversation they are not in for a limited time, always with a
stated reason that is audited, shown to the staff participants and told to the other
admins."""
