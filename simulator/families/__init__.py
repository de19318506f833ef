"""One module per CMS family; REGISTRY maps a family name to the function that builds its site."""
from . import static

REGISTRY = {
    "static": static.build,
    "fanti": static.build_traditional,
    "ruishu": static.build,     # the anti-bot gate is applied by the server in front of the site
    "jiasule": static.build,
}
for _name in ("hanweb", "trs", "gkmlpt", "trsapi", "xxgk"):
    REGISTRY.setdefault(_name, static.build)   # replaced below as the family modules land
