import inspect

import pytest

import mgps
from mgps.registry import Param, Registry, parse_value


@pytest.mark.parametrize("registry", [mgps.SAMPLERS, mgps.OPERATORS], ids=["samplers", "operators"])
def test_param_defaults_match_function_defaults(registry):
    assert len(registry) > 0
    for entry in registry:
        sig = inspect.signature(entry.obj)
        for p in entry.params:
            assert p.name in sig.parameters, f"{entry.name}: Param {p.name} is not an argument"
            assert sig.parameters[p.name].default == p.default, f"{entry.name}.{p.name}"
            if p.default is not None and p.low is not None and not isinstance(p.default, bool):
                assert p.low <= p.default <= p.high, (
                    f"{entry.name}.{p.name} default outside its range"
                )


def test_expected_samplers_registered():
    assert set(mgps.SAMPLERS.names()) >= {"mgps", "dps", "pgdm", "ddnm", "diffpir", "reddiff"}


def test_unknown_name_lists_valid_ones():
    with pytest.raises(KeyError, match="unknown sampler 'dpss'; choose one of: .*dps.*mgps"):
        mgps.SAMPLERS["dpss"]


def test_duplicate_registration_raises():
    r = Registry("thing")
    r.register("a")(lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        r.register("a")(lambda: 2)


def test_param_parse_and_range():
    p = Param("lr", 0.1, low=0.0, high=1.0)
    assert p.parse("0.5") == 0.5
    with pytest.raises(ValueError, match=r"must lie in \[0.0, 1.0\]"):
        p.parse("3")
    assert Param("warm", True).parse("false") is False
    assert parse_value("none", float) is None
    with pytest.raises(ValueError, match="integer"):
        Param("n", 2).parse("2.5")


def test_param_defaults_are_read_from_the_signature():
    r = Registry("thing")

    @r.register("f", params=(Param("lr", low=0.0, high=1.0), Param("name")))
    def f(x, *, lr: float = 0.25, name: str = "a"):
        return x

    assert r["f"].defaults() == {"lr": 0.25, "name": "a"}
    assert r["f"].param("lr").kind is float
    with pytest.raises(ValueError, match="says default 0.5, the signature 0.25"):
        r.register("g", params=(Param("lr", 0.5),))(f)
    with pytest.raises(ValueError, match="'steps' is not a keyword argument with a default"):
        r.register("h", params=(Param("steps"),))(f)
    with pytest.raises(ValueError, match="outside its range"):
        r.register("k", params=(Param("lr", high=0.1),))(f)


def test_operator_capability_tags_come_from_the_class():
    from mgps.operators import BlockAverage, ReflectBlur
    from mgps.operators.hdr import HighDynamicRange
    from mgps.registry import operator_capabilities

    for name, cls in (
        ("sr4", BlockAverage),
        ("gaussian_blur", ReflectBlur),
        ("hdr", HighDynamicRange),
    ):
        entry = mgps.OPERATORS[name]
        assert ("linear" in entry.tags) == cls.linear
        assert ("svd" in entry.tags) == getattr(cls, "has_svd", False)
    r = Registry(
        "operator", derived_tags=operator_capabilities, derived_tag_names={"linear", "svd"}
    )

    def unannotated(shape):
        return BlockAverage(shape, 4)

    with pytest.raises(TypeError, match="must be annotated with the operator class"):
        r.register("bad")(unannotated)

    def annotated(shape) -> ReflectBlur: ...

    with pytest.raises(ValueError, match="read from the object itself"):
        r.register("written", tags={"linear"})(annotated)
    assert r.register("ok", tags={"image"})(annotated) is annotated
    assert r["ok"].tags == {"image", "linear"}
