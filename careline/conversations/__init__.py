"""Conversations, their participants and their timeline (the gapless `seq`)."""
