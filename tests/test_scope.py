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


# --- schemes and internal addresses ------------------------------------------------------
from crawler.scope import address_refused, ip_literal, refusal  # noqa: E402

LOCAL = ["127.0.0.1:8080", "www.a.gov.cn", "10.1.2.3", ".b.gov.cn"]


@pytest.mark.parametrize("url,why", [
    ("ftp://www.a.gov.cn/report.pdf", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("data:text/html,<script>alert(1)</script>", "scheme"),
    ("javascript:location='http://evil'", "scheme"),
    ("gopher://127.0.0.1:8080/", "scheme"),
    ("http://127.0.0.1:8080/x", None),                  # named: the tests' and simulator's address
    ("http://10.1.2.3/x", None),                        # named, any port
    ("http://10.1.2.4/x", "address"),                   # private, not named
    ("http://169.254.169.254/latest/meta-data/", "address"),
    ("http://[fe80::1]/x", "address"),
    ("http://[fd00::1]/x", "address"),
    ("http://[::1]:8080/x", "address"),
    ("http://[::ffff:10.0.0.1]/x", "address"),
    ("http://2130706433:8080/x", "address"),            # 127.0.0.1 spelled as a number
    ("http://0x7f.1:8080/x", "address"),
    ("http://0.0.0.0:8080/x", "address"),               # reaches localhost on Linux
    ("http://100.64.0.1/x", "address"),                 # carrier-grade NAT
    ("http://8.8.8.8/x", "host"),                       # public, just not the site's
    ("http://www.a.gov.cn/x", None),
    ("http://www.c.gov.cn/x", "host"),
])
def test_refusal(url, why):
    assert refusal(url, LOCAL) == why


def test_allow_private_lets_internal_addresses_through_the_address_rule_only():
    assert refusal("http://10.9.9.9/x", LOCAL, allow_private=True) == "host"      # still not a site host
    assert refusal("http://10.9.9.9/x", ["10.9.9.9:80"], allow_private=False) == "host"   # port 80 != None
    assert refusal("http://10.9.9.9:80/x", ["10.9.9.9:80"]) is None


@pytest.mark.parametrize("host,ip", [
    ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("017700000001", "127.0.0.1"), ("[::1]", "::1"), ("www.a.gov.cn", None), ("deadbeef.cn", None),
    ("cafe", None),
])
def test_ip_literal(host, ip):
    assert (str(ip_literal(host)) if ip_literal(host) else None) == ip


@pytest.mark.parametrize("ip,host,hosts,private,refused", [
    ("10.1.2.3", "oa.a.gov.cn", [".a.gov.cn"], False, True),      # split DNS: a wildcard is not naming
    ("10.1.2.3", "oa.a.gov.cn", ["oa.a.gov.cn"], False, False),   # named exactly
    ("10.1.2.3", "oa.a.gov.cn", [".a.gov.cn"], True, False),      # the site file allows it
    ("169.254.169.254", "www.a.gov.cn", ["www.a.gov.cn"], False, False),  # named: the operator's word
    ("202.96.0.1", "www.a.gov.cn", [".a.gov.cn"], False, False),  # public
])
def test_address_refused(ip, host, hosts, private, refused):
    import ipaddress

    assert address_refused(ipaddress.ip_address(ip), host, hosts, allow_private=private) is refused


def test_site_file_option():
    from crawler.siteconfig import SiteConfig

    site = SiteConfig(id="x", agency="测试", start_urls=["http://10.0.0.5/"], allow_private=True)
    assert site.allow_private and not SiteConfig(id="x", agency="测试", start_urls=["http://a.gov.cn/"]).allow_private
