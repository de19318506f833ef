"""avalon: a county portal's 政府信息公开年报 column in the template of the provincial 集约化 rebuilds
(reconstructed from a Fujian portal): the county's, its departments' and its towns' reports (30 or
more, ten a page, 下一页 pagers), TRS articles (tYYYYMMDD_ID.html) and 大汉-style art_ pages whose
body and attachments are in the HTML, dressed in avalon markup with 26 images, 3 stylesheets and
4 scripts on every page (simulator/dress.py, applied by the server for the "dressed" quirk). A
crawler that renders every page carrying framework markup makes twenty requests per report here;
one that reads the HTML needs about two."""
from __future__ import annotations

from .common import Site
from .countymix import build as build_county


def build(site: Site) -> None:
    build_county(site, n_departments=9, n_towns=6)
