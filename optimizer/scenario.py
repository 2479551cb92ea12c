"""Scenario files: one TOML file states a whole run (inputs, scoring, reach, selection).

A scenario is validated with pydantic (unknown keys are errors, every error names the key
path such as ``selection.budget``, what was expected and the file that stated it). A
scenario may extend another one::

    extends = "base.toml"      # path relative to this file

    [selection]
    budget = 2_000_000         # overrides the base's budget, keeps its other keys

Merging rule (:func:`deep_merge`): tables merge key by key, recursively; scalars and lists
of the extending file replace the base's. Relative paths are resolved against the folder
of the file that states them (a base's ``units.file`` stays relative to the base), and
``extends`` chains may be as deep as needed but must not form a cycle.

The sections, their keys and defaults are the pydantic models below; the README section
"Scenarios" documents each key with the shipped demo as the example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from optimizer.errors import InputError, InputErrors

PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]

#: Keys whose value is a file path, resolved against the folder of the file stating them.
PATH_KEYS: tuple[tuple[str, ...], ...] = (
    ("units", "file"),
    ("demand", "file"),
    ("regions", "file"),
    ("travel", "file"),
    ("reach", "cache"),
    ("roads", "extract"),
    ("friction", "raster"),
    ("friction", "landcover"),
    ("friction", "landcover_speeds"),
    ("friction", "roads"),
    ("demand", "group_shares"),
)
#: Tables whose every value is a file path (resolved like :data:`PATH_KEYS`).
PATH_TABLES: tuple[tuple[str, ...], ...] = (("demand", "group_rasters"),)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PointsInput(Section):
    """Keys shared by the point inputs (units, demand): coordinates and layer."""

    lon: str = Field("lon", description="Longitude column (WGS84 degrees; tables only).")
    lat: str = Field("lat", description="Latitude column (WGS84 degrees; tables only).")
    region: str = Field("region", description="Region code column; absent = assigned from region polygons.")
    layer: str | None = Field(None, description="Layer of a multi-layer vector file.")


class UnitsInput(PointsInput):
    """``[units]``: the candidate units file and its column names.

    Optional columns (``service``, ``region``, ``capacity``, ``contracted``) are used when
    present in the file; naming one explicitly that is absent is an error.
    """

    file: Path = Field(description="Units table (CSV/Parquet with lon/lat) or point vector file.")
    id: str = Field("unit_id", description="Unit id column.")
    cost: str = Field("cost", description="Contract cost for the planning period (>= 0).")
    service: str = Field("service", description="Service type column (lab, imaging, ...); absent = one service 'all'.")
    capacity: str = Field("capacity", description="Capacity column (used with selection.capacity = true).")
    contracted: str = Field("contracted", description="Current contract flag ('before' of the report).")
    score: str | None = Field(None, description="Precomputed score column in [0, 1]; skips MCDM scoring.")


class DemandInput(PointsInput):
    """``[demand]``: demand points (settlements) with population and need groups, or a
    population raster (GeoTIFF of people per cell) whose cells become demand points."""

    file: Path = Field(
        description="Demand table (CSV/Parquet with lon/lat), point/polygon vector file, or a population raster "
        "(.tif: people per cell, clipped to the regions, each cell a demand point)."
    )
    raster_factor: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Population raster: aggregate blocks of N x N cells into one demand point (default 1)."
    )
    raster_cell_m: PositiveFloat | None = Field(
        None, description="Population raster: aggregate to cells of about this size in metres (instead of raster_factor)."
    )
    group_rasters: dict[str, Path] = Field(
        default_factory=dict,
        description="Population raster: group column -> raster of the group's people on the same grid (e.g. WorldPop age rasters).",
    )
    group_shares: Path | None = Field(
        None, description="Population raster: table region_id + one column per group with the group's share of the region's people."
    )
    id: str = Field("demand_id", description="Demand id column.")
    population: str = Field("population", description="Population column (>= 0).")
    kind: str = Field("kind", description="Region kind column (urban/rural...) for reach and ratio standards.")
    need_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Population-group column -> weight w: need = population + sum (w - 1) * group.",
    )
    use_rates: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=dict,
        description="Service -> expected use per person per planning period (e.g. lab tests per person per year), "
        "in the unit of the units' capacity; default 1 (capacity counts people).",
    )
    group_use_rates: dict[str, dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]] = Field(
        default_factory=dict,
        description="Population-group column -> {service -> use per person of the group}; "
        "volume = rate * population + sum (group rate - rate) * group.",
    )


class RegionsInput(Section):
    """``[regions]``: optional region polygons (maps, assignment of points to regions)."""

    file: Path = Field(description="Polygon vector file (GeoJSON, GeoPackage, ...) with a declared CRS.")
    id: str = Field("region_id", description="Region id column.")
    name: str = Field("name", description="Region name column.")
    kind: str = Field("kind", description="Region kind column (optional).")
    layer: str | None = Field(None, description="Layer of a multi-layer vector file.")


class TravelInput(Section):
    """``[travel]``: optional travel-time / road-distance table replacing great-circle reach."""

    file: Path = Field(description="Long table: demand id, unit id, distance. Absent pairs are out of reach.")
    demand_id: str = Field("demand_id", description="Demand id column.")
    unit_id: str = Field("unit_id", description="Unit id column.")
    distance: str = Field("distance", description="Distance or time column (the user's unit).")
    max_distance: PositiveFloat = Field(description="Reach in the table's unit (a pair within it covers).")


class Criteria(Section):
    """``[criteria]``: the columns that describe the units, their direction and dimension."""

    columns: list[str] | None = Field(
        None,
        description="Criterion columns scored directly; default: the ten dimension keys present in the units file.",
    )
    cost: list[str] = Field(default_factory=list, description="Criteria where lower is better.")
    dimensions: dict[str, str] = Field(
        default_factory=dict, description="Criterion column -> dimension key it measures (documentation, report)."
    )
    indicators: dict[str, str] = Field(
        default_factory=dict,
        description="Indicator column -> catalog sub-theme/theme it measures; aggregated into dimension values.",
    )

    @field_validator("columns", "cost")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("expected each column once")
        return v


class Scoring(Section):
    """``[scoring]``: how units are scored (any spec of ``optimizer score`` works)."""

    method: str = Field("topsis", description="MCDM method (topsis, ahp, vikor, promethee, ...).")
    normalization: str | None = Field(None, description="Normalization; None = the method's stated default.")
    weights: str = Field(
        "preset:path-coefficients",
        description="Weight spec: equal, entropy, critic, preset:NAME, ahp:F1.csv,F2.csv, FILE, a=0.3,b=0.7, blend:...",
    )


class Reach(Section):
    """``[reach]``: how far a unit serves a demand point.

    ``mode`` chooses how reach is measured: great-circle km (``km``, ``default_km``),
    travel minutes on the roads of an OpenStreetMap extract (``[roads]``) or over a
    friction surface (``[friction]``) with cut-offs ``minutes``/``default_minutes``, or
    the user's travel table (``[travel]``). ``km`` and ``minutes`` map a service to one
    value or to a table of region kind -> value; the defaults apply to everything else.
    """

    mode: Literal["great-circle", "road", "friction", "table"] | None = Field(
        None, description="great-circle | road | friction | table (default: table with [travel], else great-circle)."
    )
    default_km: PositiveFloat = Field(20.0, description="Great-circle reach for services and kinds not listed (km).")
    km: dict[str, PositiveFloat | dict[str, PositiveFloat]] = Field(
        default_factory=dict, description="service -> km, or service -> {kind -> km}."
    )
    default_minutes: PositiveFloat = Field(30.0, description="Road/friction cut-off for services and kinds not listed (minutes).")
    minutes: dict[str, PositiveFloat | dict[str, PositiveFloat]] = Field(
        default_factory=dict, description="service -> minutes, or service -> {kind -> minutes} (e.g. lab = {urban = 30, rural = 60})."
    )
    cache: Path | None = Field(
        None, description="Folder caching computed travel tables (default: .optimizer-cache beside the scenario file)."
    )
    workers: Annotated[int, Field(ge=1)] = Field(1, description="Processes computing road/friction travel times.")


class RoadsInput(Section):
    """``[roads]``: the OpenStreetMap extract for ``reach.mode = "road"`` (and roads burnt onto
    a land-cover friction surface). Speeds: see ``optimizer.geo.roads.ROAD_SPEEDS``."""

    extract: Path = Field(description="OpenStreetMap extract (.osm.pbf, as Geofabrik serves them).")
    network: Literal["driving", "walking"] = Field("driving", description="driving | walking.")
    speeds: dict[str, PositiveFloat] = Field(default_factory=dict, description="Highway class -> km/h, overriding the defaults.")
    use_maxspeed: bool = Field(True, description="A way's posted maxspeed replaces its class speed.")
    walking_kmh: PositiveFloat = Field(5.0, description="Speed on the walking network (km/h).")
    offroad_kmh: PositiveFloat = Field(5.0, description="Speed between a point and its nearest road node (km/h).")
    snap_max_m: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        2000.0, description="Farthest a point may be from a road (metres); a unit farther is an error, a demand point is reported."
    )


class FrictionInput(Section):
    """``[friction]``: the friction surface for ``reach.mode = "friction"`` (AccessMod's method)."""

    raster: Path | None = Field(None, description="Friction raster in minutes per metre (projected CRS in metres).")
    landcover: Path | None = Field(None, description="Land-cover raster (class codes; projected CRS in metres), instead of raster.")
    landcover_speeds: Path | dict[str, dict[Literal["walking", "motorised"], Annotated[float, Field(ge=0, allow_inf_nan=False)]]] | None = Field(
        None, description="Class -> {walking, motorised} km/h, or a table class, walking_kmh, motorised_kmh (0 = impassable)."
    )
    roads: Path | None = Field(
        None, description="Roads burnt onto the land cover at their speed: an .osm.pbf extract, or lines with a kmh or highway column."
    )
    mode: Literal["walking", "motorised", "mixed"] = Field("mixed", description="walking | motorised | mixed (drive on roads, walk elsewhere).")
    walking_kmh: PositiveFloat = Field(5.0, description="Walking speed on road cells in walking mode (km/h).")


class Selection(Section):
    """``[selection]``: the contracting decision (see the selection model's formulation)."""

    budget: Annotated[float, Field(ge=0)] | None = Field(
        None, description="Budget for the planning period (required unless objective = 'min-cost')."
    )
    objective: Literal["coverage", "quality-coverage", "min-cost"] = Field(
        "coverage", description="coverage | quality-coverage | min-cost."
    )
    target: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None, description="Coverage share to reach (objective = 'min-cost')."
    )
    must_keep: str | list[str] | None = Field(
        None, description="Units that must stay contracted: a flag column name, or a list of unit ids."
    )
    exclude: str | list[str] | None = Field(
        None, description="Units that must not be contracted: a flag column name, or a list of unit ids."
    )
    min_score: Share | None = Field(None, description="Minimum score in [0, 1] to be eligible.")
    floors: Share | dict[str, Share] | None = Field(
        None, description="Minimum covered share per region: one share for every region, or region -> share."
    )
    ratio_standards: dict[str, PositiveFloat | dict[str, PositiveFloat]] | None = Field(
        None,
        description="Minimum units per 100,000 people: region kind -> value, or kind -> {service -> value}.",
    )
    service_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Weight of each service's coverage in the objective (default 1)."
    )
    capacity: bool | None = Field(
        None,
        description="Limit what each unit serves to its capacity (a volume per period) with an assignment of demand "
        "to units; default: on whenever the units file has a capacity column.",
    )
    assignment: Literal["any", "closest"] = Field(
        "any",
        description="With capacities, who may use which contracted unit: any unit of the service in reach, or the "
        "closest one (people use the nearest contracted unit, which serves up to its capacity).",
    )
    spend: Literal["needed", "all"] = Field(
        "needed",
        description="needed: after coverage, the quality of coverage, then the least cost (budget that buys nothing "
        "is left unspent); all: after coverage, the largest total score, spending the budget.",
    )
    gap: Annotated[float, Field(ge=0, lt=1)] = Field(0.0, description="Relative optimality gap accepted (0: proven optimal).")
    solver: str = Field("highs", description="highs | cbc | greedy | any pulp solver name.")
    time_limit: PositiveFloat | None = Field(None, description="Solver time limit in seconds.")


class Outputs(Section):
    """``[outputs]``: which files a run writes besides ``summary.json`` (always written)."""

    selection_csv: bool = Field(True, description="selection.csv: every unit with its result.")
    regions_csv: bool = Field(True, description="regions.csv: every region before and after.")
    gpkg: bool = Field(True, description="selection.gpkg: units and regions with their results.")
    report: bool = Field(True, description="report.html (+ PNG charts).")


class Scenario(Section):
    """A whole scenario. Sections not stated take their defaults."""

    name: str = Field(description="Scenario name (used for the default run folder name).")
    description: str = Field("", description="Free text shown in the report.")
    credits: str = Field("", description="Data credits and licences, shown in the report's footer.")
    units: UnitsInput
    demand: DemandInput
    regions: RegionsInput | None = None
    travel: TravelInput | None = None
    roads: RoadsInput | None = None
    friction: FrictionInput | None = None
    criteria: Criteria = Field(default_factory=Criteria)
    scoring: Scoring = Field(default_factory=Scoring)
    reach: Reach = Field(default_factory=Reach)
    selection: Selection = Field(default_factory=Selection)
    outputs: Outputs = Field(default_factory=Outputs)

    _path: Path | None = PrivateAttr(None)
    _chain: tuple[Path, ...] = PrivateAttr(())
    _origins: dict[str, Path] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not v.strip() or any(c in v for c in "/\\:"):
            raise ValueError("expected a non-empty name without '/', '\\' or ':'")
        return v

    @property
    def path(self) -> Path | None:
        """The scenario file this was loaded from (None when built in code)."""
        return self._path

    @property
    def chain(self) -> tuple[Path, ...]:
        """The files merged, the loaded file first, then its bases."""
        return self._chain

    def origin(self, key: str) -> Path | None:
        """File that stated ``key`` (dotted path, e.g. ``"scoring.weights"``)."""
        while key:
            if key in self._origins:
                return self._origins[key]
            key = key.rpartition(".")[0]
        return self._path

    def base_dir(self, key: str) -> Path:
        """Folder that relative paths inside ``key`` (e.g. a weights spec) refer to."""
        origin = self.origin(key)
        return origin.parent if origin is not None else Path.cwd()

    def resolved(self) -> dict[str, Any]:
        """The scenario as a plain dict (paths as absolute strings), for summaries."""
        return self.model_dump(mode="json")


# --------------------------------------------------------------------------- loading


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: tables merge recursively, other values replace.

    >>> deep_merge({"a": {"x": 1, "y": [1]}, "b": 2}, {"a": {"y": [3]}, "c": 4})
    {'a': {'x': 1, 'y': [3]}, 'b': 2, 'c': 4}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _leaf_origins(data: Mapping[str, Any], file: Path, prefix: str = "") -> dict[str, Path]:
    out: dict[str, Path] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        out[path] = file
        if isinstance(value, Mapping):
            out.update(_leaf_origins(value, file, path + "."))
    return out


def _absolute(text: str, folder: Path) -> str:
    p = Path(text).expanduser()
    return str(p if p.is_absolute() else (folder / p).resolve())


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    for section, key in PATH_KEYS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key].strip():
            table[key] = _absolute(table[key], folder)
    for section, key in PATH_TABLES:
        table = data.get(section)
        inner = table.get(key) if isinstance(table, dict) else None
        if isinstance(inner, dict):
            table[key] = {k: _absolute(v, folder) if isinstance(v, str) and v.strip() else v for k, v in inner.items()}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(
            "scenario file does not exist; expected a scenario TOML file, a folder holding scenario.toml "
            "or the name of a shipped scenario (demo, iran)",
            file=path,
        )
    if path.is_dir():
        candidate = path / "scenario.toml"
        if candidate.is_file():
            path = candidate
        else:
            raise InputError("expected a scenario TOML file or a folder holding scenario.toml", file=path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"expected valid TOML: {exc}", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"could not read the scenario file: {exc}", file=path) from None


def scenario_file(path: str | Path) -> Path:
    """The TOML file a path names: the file itself, or ``scenario.toml`` in a folder."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "scenario.toml"
    return p.resolve()


def load_raw(path: str | Path, *, _seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path], tuple[Path, ...]]:
    """Read a scenario file and its ``extends`` chain; return (merged dict, origins, chain).

    ``origins`` maps every dotted key to the file that stated it; ``chain`` lists the
    files, the given one first. Paths in :data:`PATH_KEYS` become absolute.
    """
    file = scenario_file(path)
    if file in _seen:
        cycle = " -> ".join(str(p) for p in (*_seen, file))
        raise InputError(f"key 'extends': expected a chain of base scenarios without cycles, found {cycle}", file=_seen[-1])
    data = _read_toml(file)
    _resolve_paths(data, file.parent)
    origins = _leaf_origins(data, file)
    chain: tuple[Path, ...] = (file,)
    base_ref = data.pop("extends", None)
    origins.pop("extends", None)
    if base_ref is None:
        return data, origins, chain
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise InputError("key 'extends': expected the path of a base scenario file (a string)", file=file, found=base_ref)
    base_path = Path(base_ref).expanduser()
    if not base_path.is_absolute():
        base_path = file.parent / base_path
    if not base_path.exists():
        raise InputError("key 'extends': the base scenario file does not exist", file=file, found=str(base_path))
    base, base_origins, base_chain = load_raw(base_path, _seen=(*_seen, file))
    merged = deep_merge(base, data)
    return merged, {**base_origins, **origins}, chain + base_chain


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the key at ``loc[:-1]`` (for 'expected one of')."""
    model: Any = Scenario
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        annotation = fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return None
    return model


def _expected(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        model = _model_at(loc)
        allowed = sorted(model.model_fields) if model is not None else []
        return "unknown key; expected one of " + ", ".join(allowed) if allowed else "unknown key"
    if kind == "missing":
        return "a required key is missing"
    msg = str(error["msg"])
    for prefix in ("Input should be ", "Value error, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if msg.startswith(("greater", "less")):
        msg = "a number " + msg
    return msg if msg.startswith("expected") else "expected " + msg


def _key_path(loc: tuple[Any, ...]) -> str:
    """Dotted key path, dropping pydantic's union-branch labels (e.g. ``float``)."""
    parts = []
    for part in loc:
        text = str(part)
        if text in {"float", "str", "int", "bool", "list[str]", "dict[str,float]"} or "[" in text or text.startswith(
            "constrained"
        ):
            continue
        parts.append(text)
    return ".".join(parts)


def schema_errors(exc: ValidationError, origins: Mapping[str, Path], default_file: Path | None) -> list[InputError]:
    """Turn pydantic's errors into InputErrors naming key path, expectation and file.

    Errors of the alternatives of one key (``floors`` is a share or a table) are joined
    into one message; a key whose value is a table with a bad entry reports the entry.
    """
    grouped: dict[str, tuple[list[str], Any, str]] = {}
    for error in exc.errors():
        key = _key_path(tuple(error["loc"]))
        expected = _expected(error)
        found = None if error["type"] in {"missing", "extra_forbidden"} else error.get("input")
        if isinstance(found, dict | list):
            found = None
        texts, _, _ = grouped.setdefault(key, ([], found, error["type"]))
        if expected not in texts:
            texts.append(expected)
    out: list[InputError] = []
    for key, (texts, found, _kind) in grouped.items():
        if any(other.startswith(key + ".") for other in grouped):
            continue  # the table branch of a union reported the precise entry
        file = None
        probe = key
        while probe:
            if probe in origins:
                file = origins[probe]
                break
            probe = probe.rpartition(".")[0]
        expected = texts[0] + "".join(" or " + t.removeprefix("expected ") for t in texts[1:])
        out.append(InputError(f"key {key!r}: {expected}", file=file or default_file, found=found))
    return out


def build_scenario(data: Mapping[str, Any], *, origins: Mapping[str, Path] | None = None, path: Path | None = None, chain: tuple[Path, ...] = ()) -> Scenario:
    """Validate a merged dict into a :class:`Scenario`; raise InputErrors listing every problem."""
    origins = dict(origins or {})
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise InputErrors(schema_errors(exc, origins, path)) from None
    scenario._path = path
    scenario._chain = chain
    scenario._origins = origins
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Raises :class:`~optimizer.errors.InputErrors` listing every schema problem (key path,
    what was expected, file). Input files are not opened here; see
    :func:`optimizer.validate_scenario.check_inputs`.
    """
    data, origins, chain = load_raw(path)
    return build_scenario(data, origins=origins, path=chain[0], chain=chain)
