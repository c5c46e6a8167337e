// Per node pool: its Nodes, one Node's capacity, the run's pods bound there and their startup. Informational rows.
import { capacityText, inPoolsByName, NO_POOL, PoolInfo, PoolScope, poolsText } from "../pools";
import { cl2Spread, round, Spread } from "../stats";
import type { PodTimes } from "./pods";

export interface PoolFigures {
    readonly pool: string;
    /** The run loaded it: chosen with --pool, or every pool when none was chosen. */
    readonly targeted: boolean;
    /** Nodes and Ready Nodes at the start (what the load was sized on) and at the end. */
    readonly nodes: number;
    readonly ready: number;
    readonly nodesAtEnd?: number;
    readonly readyAtEnd?: number;
    /** One Node's allocatable at the start, and the resources on which its Nodes differ. */
    readonly allocatable: Readonly<Record<string, string>>;
    readonly differs: readonly string[];
    readonly taints: readonly string[];
    /** The run's pods (every group) bound to its Nodes, and of them the latency pods. */
    readonly podsBound: number;
    readonly latencyPods: number;
    /** Those pods' startup as the judged figure is timed: first watch sight → seen Running, nearest rank. */
    readonly startup?: Spread;
    /** Set when a pool the run loaded had no Ready Node: the figures of the run cannot stand for it. */
    readonly precondition?: string;
}

/**
 * The run's pods by pool. A pod's pool is its Node's, as the Nodes were labelled at the end (else at the start);
 * a Node the run never saw labelled is `(none)`. Pools are those of the start, of the end, and of any bound pod.
 */
export function poolFigures(
    scope: PoolScope,
    pods: readonly PodTimes[],
    end?: { readonly pools: readonly PoolInfo[]; readonly nodePool: ReadonlyMap<string, string> },
): PoolFigures[] {
    const poolOfNode = (node: string) => end?.nodePool.get(node) ?? scope.nodePool.get(node) ?? NO_POOL;
    const bound = new Map<string, PodTimes[]>();
    for (const p of pods) {
        if (p.node !== undefined) {
            const pool = poolOfNode(p.node);
            bound.set(pool, [...(bound.get(pool) ?? []), p]);
        }
    }
    const names = [
        ...new Set([...scope.pools.map((p) => p.pool), ...(end?.pools ?? []).map((p) => p.pool), ...bound.keys()]),
    ].sort();
    return names.map((pool): PoolFigures => {
        const start = scope.pools.find((p) => p.pool === pool);
        const last = end?.pools.find((p) => p.pool === pool);
        const mine = bound.get(pool) ?? [];
        const lags = mine.flatMap((p) =>
            p.runningSeenMs === undefined ? [] : [Math.max(0, (p.runningSeenMs - p.firstSeenMs) / 1000)],
        );
        const targeted = inPoolsByName(pool, scope.chosen);
        const readyAtEnd = end ? (last?.ready ?? 0) : undefined;
        const noneReady = (start?.ready ?? 0) === 0 ? "at the start" : readyAtEnd === 0 ? "at the end" : undefined;
        return {
            pool,
            targeted,
            nodes: start?.nodes ?? 0,
            ready: start?.ready ?? 0,
            nodesAtEnd: end ? (last?.nodes ?? 0) : undefined,
            readyAtEnd,
            allocatable: start?.allocatable ?? last?.allocatable ?? {},
            differs: start?.differs ?? last?.differs ?? [],
            taints: start?.taints ?? last?.taints ?? [],
            podsBound: mine.length,
            latencyPods: mine.filter((p) => p.group === "latency").length,
            startup: cl2Spread(lags),
            // Only a pool the run loaded: an idle pool without Ready Nodes changes none of the run's figures.
            precondition:
                targeted && noneReady ? `pool ${pool} had no Ready hollow Node ${noneReady} of the run` : undefined,
        };
    });
}

/** The broken preconditions the pools add: a loaded pool without a Ready Node makes the run inconclusive. */
export const poolPreconditions = (pools: readonly PoolFigures[] | undefined): string[] =>
    (pools ?? []).flatMap((p) => (p.precondition ? [p.precondition] : []));

const n = (v: number | undefined) => (v === undefined ? "—" : String(round(v)));
const cell = (s: string) => s.replace(/\|/g, "\\|");

export function poolMarkdown(
    pools: readonly PoolFigures[] | undefined,
    chosen: readonly string[] | undefined,
): string[] {
    if (!pools || pools.length === 0) {
        return [];
    }
    return [
        "## Node pools",
        "",
        `This run loaded ${chosen ? `${poolsText(chosen)} only (\`--pool\`)` : "all pools"}. Informational: the verdicts ` +
            "above are the whole run's, as CL2 judges them. Pools are the hollow Nodes' `kubemark-pulumi/pool` label (`(none)`: " +
            "Nodes without it, a stack made before pools). Capacity is one Node's `status.allocatable`; startup is first watch " +
            "sight → seen Running of the run's pods bound to the pool (every group), nearest rank.",
        "",
        "| pool | loaded | Nodes Ready/total (start → end) | one Node's capacity | its Nodes | taints | pods bound | " +
            "startup p50 / p90 / p99 s | latency pods | precondition |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...pools.map(
            (p) =>
                `| ${cell(p.pool)} | ${p.targeted ? "yes" : "no"} | ${p.ready}/${p.nodes} → ` +
                `${p.readyAtEnd === undefined ? "?" : `${p.readyAtEnd}/${p.nodesAtEnd}`} | ${cell(capacityText(p.allocatable))} | ` +
                `${p.differs.length === 0 ? "alike" : `differ in ${p.differs.join(", ")}`} | ${cell(p.taints.join(", ") || "—")} | ` +
                `${p.podsBound} | ${n(p.startup?.p50)} / ${n(p.startup?.p90)} / ${n(p.startup?.p99)} | ${p.latencyPods} | ` +
                `${p.precondition ? `FAIL: ${cell(p.precondition)}` : "holds"} |`,
        ),
        "",
    ];
}
