"""Token-bucket rate limits per (app, shop): the bucket math, its two stores, and the Flask glue."""

from souk_platform.ratelimit.buckets import BucketState, Decision, Policy, take
from souk_platform.ratelimit.stores import BucketStore, MemoryStore, RedisStore

__all__ = ["BucketState", "BucketStore", "Decision", "MemoryStore", "Policy", "RedisStore", "take"]
