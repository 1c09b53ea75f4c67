"""
test_harness.py - the test helpers themselves, where a helper's own
failure would look like a failure of posthorn.
"""
from posthorn import free_port


def test_free_port_never_hands_out_a_port_twice():
    """Two servers of one test given the same port fail with EADDRINUSE
    (test_flush's two sinks did once): the kernel's own choice for a bind
    to port 0 repeats within a few hundred calls, free_port() must not."""
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)
