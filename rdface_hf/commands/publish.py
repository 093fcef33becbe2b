"""rdface publish OUT --repo-id ORG/NAME: private, gated Hub dataset repo."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "publish",
        help="upload a build to a private, gated Hub dataset repo",
        description="Create ORG/NAME as a private dataset repo, set manual gating, then upload the build. "
        "The token comes from --token, HF_TOKEN or `hf auth login`; it is never printed.",
    )
    p.add_argument("out", metavar="OUT", help="a folder written by 'rdface build'")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo")
    p.add_argument("--gated", choices=["manual", "auto"], default="manual", help="access approval (default manual)")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN or the cached login)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rdface_hf.hub import publish

    url = publish(args.out, args.repo_id, gated=args.gated, token=args.token)
    print(f"published {args.out} to {url} (private, gated: {args.gated})")
    return 0
