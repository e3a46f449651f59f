"""Email notifications: the outbox rows the change pipeline writes, turned into emails.

`delivery` sends due rows (claimed so two workers never send one twice, retried with backoff),
`emails` builds each message, `links` makes the absolute links and unsubscribe tokens,
`tasks` wakes the sender after a change commits, and `views` answers unsubscribe links.
"""
