"""What the controller writes back (finalizers with optimistic locking, status, Events), and
the `run` flags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.devcluster import DevCluster, start
from provisioner.kube.api import EVENTS, SERVICES, Api, ApiError, load_configuration
from provisioner.kube.run import duration
from provisioner.kube.writer import FINALIZER, Writer


@pytest.fixture
def cluster() -> Iterator[DevCluster]:
    with start(0) as running:
        yield running


def test_finalizer_status_and_deduplicated_events(cluster: DevCluster) -> None:
    api = Api(load_configuration(str(cluster.kubeconfig)))
    writer = Writer(api)
    svc = api.create(
        SERVICES,
        "default",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "w", "finalizers": ["someone.else/keep"]},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
        },
    )
    added = writer.add_finalizer(svc)
    assert added["metadata"]["finalizers"] == ["someone.else/keep", FINALIZER]
    with pytest.raises(ApiError) as stale:
        writer.remove_finalizer({**svc, "metadata": {**svc["metadata"], "finalizers": [FINALIZER]}})
    assert stale.value.conflict  # a stale cache never overwrites another's finalizers
    removed = writer.remove_finalizer(added)
    assert removed["metadata"]["finalizers"] == ["someone.else/keep"]
    assert writer.set_addresses(removed, [{"hostname": "lb.example"}]) is True
    current = api.get(SERVICES, "default", "w")
    assert current["status"]["loadBalancer"]["ingress"] == [{"hostname": "lb.example"}]
    assert writer.set_addresses(current, [{"hostname": "lb.example"}]) is False
    assert writer.set_addresses(current, []) is True
    assert not api.get(SERVICES, "default", "w")["status"]["loadBalancer"].get("ingress")
    assert writer.event(current, "Warning", "CloudError", "boom") is True
    assert writer.event(current, "Warning", "CloudError", "boom") is False
    assert writer.event(current, "Normal", "Provisioned", "ok") is True
    assert writer.event(current, "Warning", "CloudError", "boom") is True
    events, _ = api.list(EVENTS, "default")
    reasons = [e["reason"] for e in events if e["involvedObject"]["name"] == "w"]
    assert sorted(reasons) == ["CloudError", "CloudError", "Provisioned"]
    api.close()


@pytest.mark.parametrize(
    ("raw", "seconds"), [("15s", 15.0), ("500ms", 0.5), ("2m", 120.0), ("3", 3.0), ("1h", 3600.0)]
)
def test_durations(raw: str, seconds: float) -> None:
    assert duration(raw) == seconds


def test_bad_run_flags_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--cluster-name", "c", "--resync", "soon"])
    assert exited.value.code == 2
    assert "--resync" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--cluster-name", "c", "--workers", "0"])
    assert "1 or more" in capsys.readouterr().err
    code = main(
        [
            "run",
            "--cluster-name",
            "c",
            "--kubeconfig",
            "/nonexistent",
            "--leader-elect-lease-duration",
            "5s",
            "--leader-elect-renew-deadline",
            "10s",
        ]
    )
    assert code == 2


def test_an_unusable_kubeconfig_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    broken = tmp_path / "kubeconfig"
    broken.write_text("clusters: [")
    for path in (str(tmp_path / "missing"), str(broken)):
        code = main(
            [
                "run",
                "--cluster-name",
                "c",
                "--kubeconfig",
                path,
                "--metrics-addr",
                "0",
                "--health-addr",
                "0",
            ]
        )
        err = capsys.readouterr().err
        assert code == 2
        assert f"--kubeconfig {path}" in err and "Traceback" not in err
        assert "accepted: a readable kubeconfig file" in err
