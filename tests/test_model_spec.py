"""A model is named by one spec string; bad specs fail with one line that shows valid forms."""

import pytest

from ads_bench.errors import UserError
from ads_bench.models.spec import parse_spec


def test_embedded_is_the_default_form():
    spec = parse_spec("embedded")
    assert (spec.backend, spec.target, spec.options) == ("embedded", "", {})


def test_a_local_gguf_uses_the_embedded_engine():
    spec = parse_spec("gguf:/models/x.gguf")
    assert (spec.backend, spec.target) == ("embedded", "/models/x.gguf")


def test_openai_names_a_model():
    spec = parse_spec("openai:gpt-4o-mini")
    assert (spec.backend, spec.target) == ("openai", "gpt-4o-mini")


def test_a_server_url_and_model_are_split_on_double_colon():
    spec = parse_spec("http://127.0.0.1:8000/v1::Qwen2-7B-Instruct")
    assert spec.backend == "http"
    assert spec.base_urls == ("http://127.0.0.1:8000/v1",)
    assert spec.target == "Qwen2-7B-Instruct"


def test_replicas_are_comma_separated_and_options_typed():
    spec = parse_spec("http://a:1/v1,http://b:2/v1/::m?concurrency=32&timeout=2.5&native_n=false")
    assert spec.base_urls == ("http://a:1/v1", "http://b:2/v1")
    assert spec.options == {"concurrency": 32, "timeout": 2.5, "native_n": False}
    assert spec.label == "http://a:1/v1,http://b:2/v1/::m"


def test_hf_with_adapter_option():
    spec = parse_spec("hf:/base?adapter=/runs/iter1/adapter")
    assert (spec.backend, spec.target, spec.options["adapter"]) == ("hf", "/base", "/runs/iter1/adapter")


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("", "empty model spec"),
        ("foo:bar", "unknown model spec"),
        ("http://127.0.0.1:8000/v1", "no model"),
        ("hf:", "missing what it points at"),
        ("embedded:/x", "takes no path"),
        ("embedded?=x", "bad options"),
    ],
)
def test_bad_specs_name_the_valid_forms(bad, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_spec(bad)
