"""Command-line commands for coverage (« zones blanches ») and proposals of territories.

Registered through ``geo.cli.parser.EXTENSIONS``:

    python -m geo coverage --scope fr|reg:76|dep:31 [--scenario NOM] [--json]
    python -m geo propose --scope dep:09 [--min-pop 20000] [--max-pop 175000] [--keep-departements]
                          [--seed 1] [--uncovered-only | --all] [--scenario NOM] [--save NOM] [--json]
"""

from __future__ import annotations

from geo.base.communes import cog_mapping
from geo.base.scope import scope_codes
from geo.cli.output import print_json, progress
from geo.coverage.gaps import assignment_for, coverage, coverage_json, parse_scope
from geo.coverage.proposals import proposal_json, propose, to_scenario
from geo.errors import DataError
from geo.formats.french import integer
from geo.sources.population import vintage_text
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context


def cmd_coverage(args) -> int:
    ctx = context()
    result = coverage(
        args.scope, assignment_for(ctx, scenario=args.scenario, with_cpts=not args.no_cpts), ctx
    )
    if args.json:
        print_json(coverage_json(result))
        return 0
    print(
        f"Périmètre {result.scope.label()} — {vintage_text(result.population_vintage)} : {integer(result.population)}"
    )
    print(
        f"Couverte : {integer(result.covered_population)} ; non couverte : {integer(result.uncovered_population)} "
        f"({result.uncovered_share:.1%}), {len(result.uncovered)} commune(s) ; "
        f"{len(result.overlaps)} commune(s) en chevauchement."
    )
    for cl in result.clusters[:20]:
        flag = " (enclave)" if cl.enclave else ""
        print(
            f"  {cl.label} : {len(cl.communes)} commune(s), {integer(cl.population)} hab., {cl.msp_count} MSP, "
            f"départements {', '.join(cl.departements)}{flag}"
        )
    if len(result.clusters) > 20:
        print(f"  ... et {len(result.clusters) - 20} autre(s) zone(s).")
    return 0


def cmd_propose(args) -> int:
    ctx = context()
    scope = parse_scope(args.scope)
    assignment = assignment_for(ctx, scenario=args.scenario)
    if args.all:
        codes = scope_codes(scope, ctx)
    else:
        codes = coverage(scope, assignment, ctx).uncovered
        if not codes:
            raise DataError(
                f"Toutes les communes du périmètre « {scope.spec} » sont déjà couvertes : "
                "rien à proposer (utilisez --all pour découper tout le périmètre)."
            )
    proposal = propose(
        codes,
        ctx,
        min_pop=args.min_pop,
        max_pop=args.max_pop,
        keep_departements=args.keep_departements,
        seed=args.seed,
        progress=progress,
        assignment=assignment,
        around_msp=not args.no_msp,
    )
    out = {
        "scope": scope.spec,
        "population_vintage": ctx.population_vintage,
        **proposal_json(proposal),
    }
    if args.save:
        scen = to_scenario(proposal, ScenarioStore(cog=cog_mapping()), args.save, scope=scope.spec)
        out["scenario"] = scen.name
    if args.json:
        print_json(out)
        return 0
    print(
        f"{len(proposal.territories)} territoire(s) proposé(s) pour {len(proposal.communes)} commune(s), "
        f"{integer(proposal.population)} habitants :"
    )
    for terr in proposal.territories:
        flags = [
            f
            for f, on in (
                ("sous le plancher", terr["below_floor"]),
                ("au-dessus du maximum", terr["above_max"]),
                ("non contigu", not terr["contiguous"]),
            )
            if on
        ]
        print(
            f"  {terr['name']} : {len(terr['communes'])} commune(s), {integer(terr['population'])} hab., "
            f"taille ACI {terr['aci_size']}" + (f" — {', '.join(flags)}" if flags else "")
        )
    for text in proposal.notes:
        print(f"  {text}")
    for text in proposal.explanations:
        print(f"  ! {text}")
    if args.save:
        print(f"Scénario « {out['scenario']} » créé (brouillon, statut « proposition »).")
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``coverage`` and ``propose``."""
    cov = sub.add_parser(
        "coverage",
        help="Couverture d'un périmètre par les CPTS : zones blanches et chevauchements.",
    )
    cov.add_argument(
        "--scope", required=True, help="fr, reg:CODE (ex. reg:76) ou dep:CODE (ex. dep:31)."
    )
    cov.add_argument(
        "--scenario", help="Ajouter les territoires de ce scénario aux CPTS importées."
    )
    cov.add_argument(
        "--no-cpts", action="store_true", help="Ne pas compter les CPTS importées (scénario seul)."
    )
    cov.add_argument("--json", action="store_true")
    cov.set_defaults(func=cmd_coverage)

    prop = sub.add_parser(
        "propose", help="Proposer des territoires contigus pour les communes non couvertes."
    )
    prop.add_argument("--scope", required=True, help="fr, reg:CODE ou dep:CODE.")
    prop.add_argument(
        "--min-pop", type=int, default=20000, help="Population minimale d'un territoire (20 000)."
    )
    prop.add_argument(
        "--max-pop", type=int, help="Population maximale d'un territoire (ex. 175000)."
    )
    prop.add_argument(
        "--keep-departements",
        action="store_true",
        help="Ne jamais franchir une limite de département.",
    )
    prop.add_argument(
        "--seed",
        type=int,
        default=1,
        help="Graine : mêmes données et même graine, même proposition.",
    )
    prop.add_argument(
        "--no-msp",
        action="store_true",
        help="Ne pas regrouper les communes autour des MSP (par défaut : autour des MSP si le FINESS "
        "est importé).",
    )
    which = prop.add_mutually_exclusive_group()
    which.add_argument(
        "--uncovered-only",
        dest="all",
        action="store_false",
        help="Découper les communes non couvertes du périmètre (par défaut).",
    )
    which.add_argument(
        "--all", dest="all", action="store_true", help="Découper toutes les communes du périmètre."
    )
    prop.add_argument(
        "--scenario", help="Compter aussi comme couvertes les communes de ce scénario."
    )
    prop.add_argument(
        "--save", metavar="NOM", help="Enregistrer la proposition comme nouveau scénario brouillon."
    )
    prop.add_argument("--json", action="store_true")
    prop.set_defaults(func=cmd_propose, all=False)
