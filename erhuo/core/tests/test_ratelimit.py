from erhuo.core import ratelimit


def test_allows_up_to_the_limit_then_refuses():
    results = [ratelimit.allow("test:key", limit=3, window_seconds=60) for _ in range(5)]
    assert results == [True, True, True, False, False]


def test_keys_are_counted_apart():
    assert [ratelimit.allow("test:a", limit=1) for _ in range(2)] == [True, False]
    assert ratelimit.allow("test:b", limit=1) is True
