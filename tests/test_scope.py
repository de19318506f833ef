import pytest

from crawler.scope import attachment_in_scope, in_scope, registrable_domain

HOSTS = ["www.a.gov.cn", "127.0.0.1:8080", ".b.gov.cn"]


@pytest.mark.parametrize("url,expected", [
    ("http://www.a.gov.cn/col/col1/index.html", True),
    ("https://www.a.gov.cn:8443/x", True),              # a bare host allows any port
    ("http://xxgk.a.gov.cn/x", False),                  # sibling host needs its own entry
    ("http://127.0.0.1:8080/x", True),
    ("http://127.0.0.1:8081/x", False),                 # host:port is exact
    ("http://b.gov.cn/x", True),
    ("http://www.b.gov.cn/x", True),
    ("http://evilb.gov.cn/x", False),
    ("http://www.a.gov.cn.evil.com/x", False),
    ("ftp://www.a.gov.cn/x", False),
    ("javascript:void(0)", False),
    ("http://[::1/", False),
])
def test_in_scope(url, expected):
    assert in_scope(url, HOSTS) is expected


@pytest.mark.parametrize("url,expected", [
    ("http://www.a.gov.cn/P020190131.pdf", True),
    ("http://file.a.gov.cn/attach/0/x.pdf", True),       # same registrable domain
    ("http://www.c.gov.cn/x.pdf", False),
    ("http://127.0.0.2:8080/x.pdf", False),
])
def test_attachment_scope(url, expected):
    assert attachment_in_scope(url, HOSTS) is expected


@pytest.mark.parametrize("host,domain", [
    ("www.taicang.gov.cn", "taicang.gov.cn"),
    ("xxgk.suzhou.gov.cn", "suzhou.gov.cn"),
    ("www.example.com", "example.com"),
    ("127.0.0.1", "127.0.0.1"),
])
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain
