"""服务市场 the service market: providers sell services in packages; merchants order them with escrow.

- ``catalogue``: provider profiles, services and their packages, portfolio items, ratings, search
- ``states``: the order state machine (one table, one ``transition()``) and the order timeline
- ``services``: placing orders, every party's action on them, escrow through the ledger, timers
"""
