"""The documents of the VO routes: VOTables of cone searches (SCS 1.03) and images (SIA 1.0),
their error documents, and the VOSI capabilities and availability (XML).

A VOTable answer holds one RESOURCE of type "results" with an INFO name="QUERY_STATUS"
(OK, OVERFLOW when MAXREC cut the rows, ERROR with the message), as DALI and SIA ask; an
error also carries the INFO name="Error" SCS 1.03 asks for. Column names are the API's,
``:`` written ``_`` (as in the API's VOTable output).
"""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from astropy.io.votable.tree import Field, Info, Resource, TableElement, VOTableFile
from astropy.table import Table
from astropy.io.votable import from_table

from .queries.vo import SIA_COLUMNS, SIA_UCDS, Catalogue
from .render import votable_file

VOTABLE_TYPE = "application/x-votable+xml"
UNITS = {"ra": "deg", "dec": "deg", "v:separation_degree": "deg", "mjd_obs": "d", "scale": "deg/pix",
         "crval": "deg", "cd": "deg/pix", "equinox": "yr", "naxis": "pix", "crpix": "pix"}


def _field_name(column: str) -> str:
    return column.replace(":", "_").replace("-", "_")


def _status(votable, value: str, text: str):
    resource = votable.resources[0]
    resource.type = "results"
    resource.infos.append(_info("QUERY_STATUS", value, text))
    return votable


def _info(name: str, value: str, text: str) -> Info:
    info = Info(name=name, value=value)
    info.content = text
    return info


#: the VOTable version of cone searches and errors: SCS 1.03 was written for it, and its UCD1
#: words (ID_MAIN, POS_EQ_RA_MAIN) are valid there, where VOTable 1.2+ expects UCD1+ (astropy's
#: W06). SIA 1.0 answers stay in astropy's default version: their VOX: words are invalid UCDs
#: in every version, and 1.1 would refuse their VOUnits (pixel, deg.pixel**-1) as well.
SCS_VOTABLE_VERSION = "1.1"


def _xml(votable, version: str | None = None) -> bytes:
    if version:
        votable.version = version
    buf = io.BytesIO()
    votable.to_xml(buf)
    return buf.getvalue()


def scs_votable(cat: Catalogue, title: str) -> bytes:
    """The VOTable of a cone search: the id and position columns carry SCS's UCD1 words
    (ID_MAIN, POS_EQ_RA_MAIN, POS_EQ_DEC_MAIN), in degrees."""
    rows = cat.rows.copy()
    for col in (cat.ra_column, cat.dec_column, "v:separation_degree"):
        if col in rows:
            rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
    if cat.id_column in rows:
        rows[cat.id_column] = rows[cat.id_column].map(lambda v: None if v is None or v is pd.NA else str(v))
        if rows.empty:
            rows[cat.id_column] = rows[cat.id_column].astype(str)
    votable = votable_file(rows)
    table = votable.get_first_table()
    table.name = "results"
    table.description = title
    ucds = {_field_name(cat.id_column): "ID_MAIN", _field_name(cat.ra_column): "POS_EQ_RA_MAIN",
            _field_name(cat.dec_column): "POS_EQ_DEC_MAIN"}
    for field in table.fields:
        field.ucd = ucds.get(field.name)
        if field.name in (_field_name(cat.ra_column), _field_name(cat.dec_column), "v_separation_degree"):
            field.unit = "deg"
    text = "MAXREC rows returned; more match" if cat.overflow else "OK"
    return _xml(_status(votable, "OVERFLOW" if cat.overflow else "OK", text), SCS_VOTABLE_VERSION)


_SIA_EMPTY = {"naxes": np.int32, "ra": float, "dec": float, "mjd_obs": float, "equinox": float, "alert_id": np.int64}
_SIA_WIDTH = {"naxis": 2, "scale": 2, "crpix": 2, "crval": 2, "cd": 4}


def sia_votable(images: list[dict], overflow: bool) -> bytes:
    """The VOTable of an image query: one row per image, the SIA 1.0 UCDs on its columns
    (array-valued: naxis, scale, crpix, crval, cd)."""
    columns = {}
    for name in SIA_COLUMNS:
        if images:
            columns[name] = np.array([row[name] for row in images])
        elif name in _SIA_WIDTH:
            columns[name] = np.zeros((0, _SIA_WIDTH[name]), dtype=np.int32 if name == "naxis" else float)
        else:
            columns[name] = np.array([], dtype=_SIA_EMPTY.get(name, str))
    votable = from_table(Table(columns))
    table = votable.get_first_table()
    table.name = "results"
    for field in table.fields:
        field.ucd = SIA_UCDS.get(field.name)
        field.unit = UNITS.get(field.name)
    text = "MAXREC images returned; more match" if overflow else "OK"
    return _xml(_status(votable, "OVERFLOW" if overflow else "OK", text))


def error_votable(message: str) -> bytes:
    """An error document: QUERY_STATUS ERROR (DALI, SIA) in the results resource, and the
    INFO name="Error" of SCS 1.03 under the root, both carrying ``message``."""
    votable = VOTableFile()
    resource = Resource()
    votable.resources.append(resource)
    _status(votable, "ERROR", message)
    votable.infos.append(_info("Error", message[:200], message))
    # an empty table: some readers expect one
    table = TableElement(votable)
    table.fields.append(Field(votable, name="error", datatype="char", arraysize="*"))
    table.create_arrays(0)
    resource.tables.append(table)
    return _xml(votable, SCS_VOTABLE_VERSION)


# -- VOSI ------------------------------------------------------------------------------------------
def capabilities_xml(base: str, survey_name: str, max_sr_deg: float, max_size_deg: float, max_records: int,
                     test: tuple[float, float]) -> bytes:
    """The VOSI capabilities of one survey's VO services at ``base`` (…/vo)."""
    def url(path: str, use: str = "base") -> str:
        return f'<accessURL use="{use}">{escape(base + path)}</accessURL>'

    def cone(path: str, what: str) -> str:
        return (f'  <capability standardID="ivo://ivoa.net/std/ConeSearch" xsi:type="cs:ConeSearch">\n'
                f'    <description>{escape(survey_name)}: {escape(what)}</description>\n'
                f'    <interface xsi:type="vs:ParamHTTP" role="std">{url(path + "?")}</interface>\n'
                f'    <maxSR>{max_sr_deg:g}</maxSR><maxRecords>{max_records}</maxRecords>'
                f'<verbosity>true</verbosity>\n'
                f'    <testQuery><ra>{test[0]:.6f}</ra><dec>{test[1]:.6f}</dec><sr>0.001</sr></testQuery>\n'
                f'  </capability>\n')
    vosi = "".join(
        f'  <capability standardID="ivo://ivoa.net/std/VOSI#{name}">\n'
        f'    <interface xsi:type="vs:ParamHTTP">{url("/" + name, "full")}</interface>\n  </capability>\n'
        for name in ("capabilities", "availability"))
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
        'xmlns:cs="http://www.ivoa.net/xml/ConeSearch/v1.0" xmlns:sia="http://www.ivoa.net/xml/SIA/v1.1">\n'
        + cone("/scs/alerts", "every alert in the cone (one row per alert, ID_MAIN the alert's id)")
        + cone("/scs/objects", "the newest alert of each object in the cone (ID_MAIN the object's id)")
        + '  <capability standardID="ivo://ivoa.net/std/SIA" xsi:type="sia:SimpleImageAccess">\n'
        f'    <description>{escape(survey_name)}: the cutouts (science, template, difference) of the alerts, '
        'as FITS or PNG</description>\n'
        f'    <interface xsi:type="vs:ParamHTTP" role="std">{url("/sia?")}</interface>\n'
        '    <imageServiceType>Cutout</imageServiceType>\n'
        f'    <maxQueryRegionSize><long>{max_size_deg:g}</long><lat>{max_size_deg:g}</lat></maxQueryRegionSize>\n'
        f'    <maxRecords>{max_records}</maxRecords>\n'
        f'    <testQuery><pos><long>{test[0]:.6f}</long><lat>{test[1]:.6f}</lat></pos>'
        '<size><long>0.01</long><lat>0.01</lat></size></testQuery>\n'
        '  </capability>\n'
        + vosi + '</vosi:capabilities>\n')
    return text.encode()


def availability_xml(available: bool, note: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<avl:availability xmlns:avl="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n'
            f'  <avl:available>{"true" if available else "false"}</avl:available>\n'
            f'  <avl:note>{escape(note)}</avl:note>\n'
            '</avl:availability>\n').encode()
