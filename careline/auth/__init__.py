"""Sign-in, sessions, throttling of failed sign-ins, and the request's actor."""
