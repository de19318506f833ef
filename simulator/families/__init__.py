"""One module per CMS family; REGISTRY maps a family name to the function that builds its site."""
from . import gkmlpt, hanweb, static, trs, trsapi, xxgk
from . import aspnet, epoint, frames, gbkurl, hanwebxxgk, ilist, nocolumn, picker, scriptlist, yearless
from . import countymix, deptdir
from . import avalon, scriptapp

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
    # Ad hoc families (simulator/adhoc.py): never in World(size=...), only in adhoc_world().
    "frames": frames.build,
    "aspnet": aspnet.build,
    "picker_select": picker.build_select,
    "picker_form": picker.build_form,
    "gbkurl": gbkurl.build,
    "scriptlist": scriptlist.build,
    "nocolumn": nocolumn.build,
    "yearless": yearless.build,
    "hanwebxxgk": hanwebxxgk.build,
    "epoint": epoint.build,
    "ilist": ilist.build,
    # Publisher families (simulator/places.py): opt-in, adhoc_world(families=PUBLISHER_FAMILIES).
    "deptdir": deptdir.build,
    "countymix": countymix.build,
    # Politeness families (simulator/dress.py): opt-in, adhoc_world(families=POLITE_FAMILIES).
    "avalon": avalon.build,
    "scriptapp": scriptapp.build,
}
