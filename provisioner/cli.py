"""`provisioner plan | apply | demo | dev-cluster | version`.

`plan` and `apply` share one code path with the controller (`reconcile`); only the view
differs (manifest files here). Exit codes: 0 when every object is valid and every change was
applied, 1 when any object has an error (the valid ones are still planned or applied), 2 for
usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from providers import base
from provisioner import output
from provisioner.devcluster import command as devcluster_command
from provisioner.keys import all_keys
from provisioner.kube import run as run_command
from provisioner.manifests import Manifests, load
from provisioner.model import Key
from provisioner.reconcile import Outcome, Selection, reconcile

DEFAULT_LOAD_BALANCER_CLASS = "provisioner.io/nlb"
DEFAULT_INGRESS_CONTROLLER = "provisioner.io/alb"

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", default="aws", help="cloud provider (default: aws)")
    parser.add_argument("--cluster-name", required=True, help="name of this cluster")
    parser.add_argument(
        "--region",
        help="cloud region of the load balancers (default: the provider's standard "
        "configuration: AWS_REGION / AWS_DEFAULT_REGION, CLOUDSDK_COMPUTE_REGION)",
    )
    parser.add_argument(
        "--load-balancer-class",
        default=DEFAULT_LOAD_BALANCER_CLASS,
        help=f"Services with this spec.loadBalancerClass are ours "
        f"(default: {DEFAULT_LOAD_BALANCER_CLASS})",
    )
    parser.add_argument(
        "--ingress-controller",
        default=DEFAULT_INGRESS_CONTROLLER,
        help=f"IngressClass controller name that is ours (default: {DEFAULT_INGRESS_CONTROLLER})",
    )
    parser.add_argument(
        "--legacy-ingress-class",
        action="append",
        default=None,
        help="kubernetes.io/ingress.class value that is ours (repeatable; default: alb on aws)",
    )


def _add_one_shot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        dest="files",
        action="append",
        required=True,
        type=Path,
        help="manifest file or directory of multi-document YAML (repeatable)",
    )
    _add_selection(parser)
    parser.add_argument(
        "--prune",
        action="store_true",
        help="also delete keys this cluster and class own that have no object in the manifests",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="apply: wait until every load balancer is active before reporting",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long --wait waits for each load balancer (default: 600)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provisioner", description="Cloud load balancers for Kubernetes Services."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    factories = {name: base.load(name) for name in base.available()}
    for name, help_text in (
        ("plan", "show what apply would change, changing nothing"),
        ("apply", "make the cloud match the manifests"),
    ):
        sub = commands.add_parser(name, help=help_text)
        _add_one_shot(sub)
        if name == "apply":
            _add_wait(sub)
        for factory in factories.values():
            factory.add_arguments(sub)
    run = commands.add_parser("run", help="run the controller against a Kubernetes API server")
    _add_selection(run)
    run_command.add_arguments(run)
    for factory in factories.values():
        factory.add_arguments(run)
    demo = commands.add_parser(
        "demo", help="run the controller live on a local cluster and cloud, apply examples/"
    )
    demo.add_argument("--examples", type=Path, default=None, help="manifests to apply")
    demo.add_argument("--output", "-o", choices=("text", "json"), default="text")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep the cluster, the cloud and the controller running until Ctrl-C",
    )
    demo.add_argument(
        "--env-file",
        type=Path,
        help="with --serve: write KUBECONFIG=, AWS_ENDPOINT_URL=, ... lines here once "
        "everything is ready; removed on exit",
    )
    dev = commands.add_parser("dev-cluster", help="run an in-memory Kubernetes API server")
    devcluster_command.add_arguments(dev)
    commands.add_parser("version", help="print the version")
    return parser


def selection_for(args: argparse.Namespace, factory: base.ProviderFactory) -> Selection:
    return Selection(
        load_balancer_class=args.load_balancer_class,
        classless_service=factory.selects_classless_service,
        ingress_controller=args.ingress_controller,
        legacy_ingress_classes=tuple(
            args.legacy_ingress_class or factory.default_legacy_ingress_classes
        ),
        ingress_annotations=factory.ingress_annotations,
    )


def make_provider(args: argparse.Namespace) -> tuple[base.ProviderFactory, base.Provider]:
    try:
        factory = base.load(args.provider)
    except KeyError:
        raise UsageError(
            f"--provider {args.provider}: unknown; available: {', '.join(base.available())}"
        ) from None
    legacy = tuple(args.legacy_ingress_class or factory.default_legacy_ingress_classes)
    settings = base.Settings(
        cluster_name=args.cluster_name,
        load_balancer_class=args.load_balancer_class,
        ingress_controller=args.ingress_controller,
        legacy_ingress_classes=legacy,
    )
    try:
        provider = factory.create(settings, args)
    except base.ProviderError as err:
        raise UsageError(f"--provider {args.provider}: {err}") from err
    return factory, provider


def run_one_shot(
    args: argparse.Namespace,
    *,
    dry_run: bool,
    manifests: Manifests | None = None,
    made: tuple[base.ProviderFactory, base.Provider] | None = None,
) -> tuple[int, list[Outcome], Manifests, set[Key]]:
    """Plan or apply every Service and Ingress key in the manifests (and, with --prune,
    every orphan)."""
    for path in args.files:
        if not path.exists():
            raise UsageError(f"-f {path}: no such file or directory")
    factory, provider = made or make_provider(args)
    manifests = manifests if manifests is not None else load(args.files)
    selection = selection_for(args, factory)
    keys: list[Key] = all_keys(manifests, selection)
    pruned: set[Key] = set()
    if args.prune:
        # Only kinds these manifests can hold are pruned: a key of a kind the CLI does not
        # read (a shared resource) is never taken for an orphan.
        present = set(keys)
        pruned = {
            k
            for k in provider.owned()
            if k.startswith(("Service/", "Ingress/", "IngressGroup/")) and k not in present
        }
    outcomes = [
        reconcile(key, manifests, provider, selection=selection, dry_run=dry_run)
        for key in [*keys, *sorted(pruned)]
    ]
    if not dry_run and getattr(args, "wait", False):
        for outcome in outcomes:
            if outcome.ours and outcome.status is not None and not outcome.error:
                try:
                    outcome.status = provider.wait_ready(outcome.status, timeout=args.wait_timeout)
                except base.ProviderError as err:
                    outcome.error, outcome.error_kind = str(err), type(err).__name__
    failed = any(o.error or o.member_errors for o in outcomes) or bool(manifests.errors)
    return (EXIT_ERRORS if failed else EXIT_OK), outcomes, manifests, pruned


def _print(
    args: argparse.Namespace,
    outcomes: list[Outcome],
    manifests: Manifests,
    pruned: set[Key],
    *,
    dry_run: bool,
) -> None:
    if args.output == "json":
        body = (
            output.plan_json(outcomes, manifests.errors)
            if dry_run
            else output.apply_json(outcomes, manifests.errors, pruned=pruned)
        )
        print(json.dumps(body, indent=2, sort_keys=False))
    elif dry_run:
        print(output.plan_text(outcomes, manifests.errors))
    else:
        print(output.apply_text(outcomes, manifests.errors, pruned=pruned))


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in ("plan", "apply"):
            dry_run = args.command == "plan"
            code, outcomes, manifests, pruned = run_one_shot(args, dry_run=dry_run)
            _print(args, outcomes, manifests, pruned, dry_run=dry_run)
            return code
        if args.command == "run":

            def make() -> tuple[base.Provider, Selection]:
                factory, provider = make_provider(args)
                return provider, selection_for(args, factory)

            return run_command.run(args, make)
        if args.command == "demo":
            from provisioner.demo import run_demo

            demo_code: int = run_demo(args)
            return demo_code
        if args.command == "dev-cluster":
            return devcluster_command.run(args)
        if args.command == "version":
            print(_version())
            return EXIT_OK
    except UsageError as err:
        print(f"provisioner: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"provisioner: error: unknown command {args.command}", file=sys.stderr)
    return EXIT_USAGE


def _version() -> str:
    try:
        return version("provisioner")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
