"""Web Push alerts: VAPID keys, subscriptions, a durable outbox and the sender that drains it."""
