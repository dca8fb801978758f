"""Notifications: telling people that something happened, on the channels they chose,
without ever saying what (docs/notifications.md).

- kinds.py: the kinds of notification, as data (a new domain adds a Kind, not a path).
- service.py: `do_notify` and `do_notify_message`, called inside the transaction that
  causes them; marking read; the notification centre's reads.
- delivery.py / jobs.py: from a due record to a channel, after commit, exactly once.
- channels.py: the interface every channel (web push, e-mail) implements.
- words.py: every word that leaves careline, built from a closed set of fields.
"""
