"""One module per CMS family; REGISTRY maps a family name to the function that builds its site."""
from . import gkmlpt, hanweb, static, trs, trsapi, xxgk

REGISTRY = {
    "hanweb": hanweb.build,
    "trs": trs.build,
    "gkmlpt": gkmlpt.build,
    "trsapi": trsapi.build,
    "xxgk": xxgk.build,
    "static": static.build,
    "fanti": static.build_traditional,
    "ruishu": static.build,     # the anti-bot gate is applied by the server in front of the site
    "jiasule": static.build,
}
