// `npm run measure`: reads the stack, refuses it unless up, runs a scenario, cleans up (Ctrl-C too), writes the report.
import { randomBytes } from "node:crypto";
import { cancellable, realClock } from "../components/kube/async";
import { kubernetesClusterApi } from "../components/kube/clusterApi";
import { REQUEST_MS } from "../components/kube/dynamic";
import { isCancelled } from "../components/kube/errors";
import { deleteNamespace, removeLeftovers } from "./cleanup";
import { RunContext } from "./context";
import { enc, kube, Kube, listAll, NodeLike } from "./kube";
import { ControlPlaneRecorder } from "./metrics/controlPlane";
import { healthEndpoints } from "./metrics/controlPlaneEndpoints";
import { saturation } from "./metrics/controlPlaneHealth";
import { healthMarkdown, healthRows } from "./metrics/controlPlaneReport";
import { Options, OptionsError, parseOptions, USAGE } from "./options";
import { capacityText, poolRefusals, poolScope, PoolScope, poolsText } from "./pools";
import { defaultOutput, footer, header, publicStack, RunRecord, sliTable, verdictOf, writeReport } from "./report";
import { SCENARIO_RUNNERS } from "./scenarios";
import type { Outcome, ScenarioRunner } from "./scenarios/scenario";
import { CL2_SOURCE } from "./slo";
import { readStack, StackInfo } from "./stack";

/** Bound on removing the run's (or an interrupted run's) namespace; pods of a dead hollow Node are forced at half. */
const CLEANUP_MS = 180_000;
export const EXIT = { ok: 0, error: 1, options: 2, sloFailed: 3, inconclusive: 4, interrupted: 130 } as const;

const started = Date.now();
const log = (m: string) => console.log(`[measure ${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);

/** Refuses a stack that is not up: fewer Ready Nodes with its label than replicas, or no hollow pods. */
async function checkUp(stack: StackInfo, signal: AbortSignal): Promise<void> {
    const target = kubernetesClusterApi(stack.targetKubeconfig, REQUEST_MS, signal);
    const nodeCluster = kubernetesClusterApi(stack.nodeKubeconfig, REQUEST_MS, signal);
    const nodes = await target.listNodes(stack.selector);
    const ready = nodes.filter((n) => n.ready).length;
    if (stack.replicas === 0 || ready < stack.replicas) {
        throw new Error(
            `stack ${stack.stack} is not up: ${ready} of its ${stack.replicas} hollow Nodes are Ready in ${target.server} ` +
                `(${nodes.length} registered with ${stack.selector}); run \`pulumi up --stack ${stack.stack}\` and measure once it succeeds`,
        );
    }
    const pods = (await nodeCluster.listPods(stack.namespace, stack.podSelector)).filter((p) => !p.terminating);
    if (pods.length === 0) {
        throw new Error(
            `stack ${stack.stack} is not up: no hollow pods with ${stack.podSelector} in namespace ${stack.namespace} of ${nodeCluster.server}`,
        );
    }
    log(
        `stack ${stack.stack}: ${ready}/${stack.replicas} hollow Nodes Ready in ${target.server}; ${pods.length} hollow pod(s) in ${nodeCluster.server}`,
    );
}

/**
 * The stack's pools from its hollow Nodes' labels, each said once; refuses a --pool the stack lacks or that has no
 * Ready Node (as bad options: nothing is created). Undefined when refused.
 */
async function readPools(stack: StackInfo, options: Options, target: Kube): Promise<PoolScope | undefined> {
    const scope = poolScope(
        await listAll<NodeLike>(target, "/api/v1/nodes", { labelSelector: stack.selector }),
        options.pools,
    );
    const refused = poolRefusals(options.pools, scope.pools);
    if (refused.length > 0) {
        console.error(`measure: refused, nothing was created:\n${refused.join("\n")}`);
        return undefined;
    }
    for (const p of scope.pools) {
        const differ = p.differs.length > 0 ? `; its Nodes differ in ${p.differs.join(", ")}` : "";
        log(`pool ${p.pool}: ${p.ready}/${p.nodes} Ready, one Node ${capacityText(p.allocatable)}${differ}`);
    }
    log(`this run: ${poolsText(options.pools)}`);
    return scope;
}

/** Removes what the run created in the target: its namespaces (everything in them) and cluster-wide objects. */
async function removeCreated(cx: RunContext, api: Kube): Promise<string | undefined> {
    const said: string[] = [];
    for (const ns of cx.created.namespaces) {
        log(`removing namespace ${ns} and everything in it`);
        try {
            await deleteNamespace(api, ns, CLEANUP_MS, log);
            said.push(`namespace ${ns} and everything in it removed`);
        } catch (e) {
            said.push(`removing namespace ${ns} failed: ${(e as Error).message}`);
        }
    }
    for (const pc of cx.created.priorityClasses) {
        try {
            await api.maybe("DELETE", `/apis/scheduling.k8s.io/v1/priorityclasses/${enc(pc)}`);
            said.push(`PriorityClass ${pc} removed`);
        } catch (e) {
            said.push(`removing PriorityClass ${pc} failed: ${(e as Error).message}`);
        }
    }
    return said.length === 0 ? undefined : said.join("; ");
}

async function measure(options: Options, controller: AbortController): Promise<number> {
    const { signal } = controller;
    const scenario = SCENARIO_RUNNERS[options.scenario] as ScenarioRunner;
    log(`reading stack ${options.stack} (pulumi stack export --show-secrets)`);
    const stack = await readStack(options.stack);
    await checkUp(stack, signal);
    const target = kube(stack.targetKubeconfig, signal);
    const pools = await readPools(stack, options, target);
    if (!pools) {
        return EXIT.options;
    }
    // Cleanup runs after a Ctrl-C too: its calls must not end with the run's signal.
    const cleanupApi = kube(stack.targetKubeconfig);
    const leftovers = await removeLeftovers(target, stack.labelValue, CLEANUP_MS, log, scenario.onLiveRun);
    const startMs = Date.now();
    const cx: RunContext = {
        options,
        stack,
        pools,
        target,
        nodeCluster: kube(stack.nodeKubeconfig, signal),
        targetNodes: kubernetesClusterApi(stack.targetKubeconfig, REQUEST_MS, signal),
        nodePods: kubernetesClusterApi(stack.nodeKubeconfig, REQUEST_MS, signal),
        clock: cancellable(realClock, signal),
        signal,
        log,
        runId: `${new Date(startMs).toISOString().replace(/[-:.]/g, "").toLowerCase()}-${randomBytes(3).toString("hex")}`,
        startMs,
        deadlineMs: startMs + options.timeoutSeconds * 1000,
        created: { namespaces: [], priorityClasses: [] },
    };
    const health = new ControlPlaneRecorder(
        target,
        stack.targetKubeconfig,
        healthEndpoints(target.server, options),
        startMs,
        log,
        signal,
    );
    await health.start(options.metricsEverySeconds * 1000);
    let outcome: Outcome | undefined;
    let failure: unknown;
    let cleanup = scenario.createsNothing;
    try {
        outcome = await scenario.run(cx);
    } catch (e) {
        failure = e;
    } finally {
        cleanup = (await removeCreated(cx, cleanupApi)) ?? cleanup;
        log(`cleanup: ${cleanup}`);
    }
    const plane = await health.stop();
    const cancelled = signal.aborted || isCancelled(failure) || !!outcome?.cancelled;
    const error = failure === undefined ? outcome?.error : (failure as Error).message;
    if (!outcome) {
        throw Object.assign(new Error(error ?? "the run ended without a result"), { cancelled });
    }
    const saturated = saturation(plane);
    const brokenPreconditions = [...(saturated ? [saturated] : []), ...scenario.preconditions(outcome)];
    const rows = [
        ...scenario
            .rows(outcome)
            .map((r) =>
                r.verdict === "fail" && saturated
                    ? { ...r, note: r.note === undefined ? saturated : `${r.note}; ${saturated}` }
                    : r,
            ),
        ...healthRows(plane),
    ];
    const record: RunRecord = {
        tool: "kubemark-pulumi measure",
        stack: options.stack,
        scenario: options.scenario,
        startedAt: new Date(startMs).toISOString(),
        endedAt: new Date().toISOString(),
        target: target.server,
        nodeCluster: cx.nodeCluster.server,
        stackInfo: publicStack(stack),
        options,
        leftoversRemoved: leftovers,
        rows,
        brokenPreconditions,
        verdict: verdictOf(rows, brokenPreconditions),
        notes: [
            `Semantics: ${CL2_SOURCE}. Sample percentiles of the judged latency pods and of the scheduler throughput are CL2's ` +
                "nearest rank; API latency quantiles are histogram_quantile over the run's bucket increase, as CL2's Prometheus query.",
            "CL2's enforced checks cover the whole run (APIResponsivenessPrometheusSimple, PodStartupLatency), as here.",
            ...(cancelled ? ["The run was interrupted (Ctrl-C): the figures cover the part that ran."] : []),
        ],
        error: cancelled ? "interrupted (Ctrl-C)" : error,
        cancelled,
        cleanup,
    };
    const dir = options.output ?? defaultOutput(options.stack, options.scenario, new Date(startMs));
    const charts = scenario.charts(outcome);
    const markdown = [
        ...header(record),
        "## SLIs against SLOs",
        "",
        ...sliTable(record.rows),
        "",
        ...scenario.markdown(record, outcome, charts),
        ...healthMarkdown(plane),
        ...footer(record, charts),
    ];
    writeReport(dir, markdown, { ...record, ...scenario.json(outcome), controlPlane: plane }, charts);
    for (const r of rows) {
        log(
            `${r.verdict === "n/a" ? "    " : r.verdict.toUpperCase().padEnd(4)} ${r.sli}: ${r.value ?? "—"} ${r.unit}` +
                `${r.atMost === undefined ? "" : ` (SLO ≤ ${r.atMost} ${r.unit})`}${r.atLeast === undefined ? "" : ` (≥ ${r.atLeast} ${r.unit})`}`,
        );
    }
    brokenPreconditions.forEach((b) => log(`not a finding: ${b}`));
    log(`report written to ${dir}/ (report.md, report.json, ${charts.map((c) => c.file).join(", ") || "no charts"})`);
    if (cancelled) {
        return EXIT.interrupted;
    }
    if (error) {
        log(`the run stopped early: ${error}`);
        return EXIT.error;
    }
    return record.verdict === "fail" ? EXIT.sloFailed : record.verdict === "inconclusive" ? EXIT.inconclusive : EXIT.ok;
}

export async function main(argv: readonly string[]): Promise<number> {
    let options: Options;
    try {
        const parsed = parseOptions(argv);
        if (parsed === "help") {
            console.log(USAGE);
            return EXIT.ok;
        }
        options = parsed;
    } catch (e) {
        if (e instanceof OptionsError) {
            console.error(`measure: refused, nothing was read or created:\n${e.message}`);
            return EXIT.options;
        }
        throw e;
    }
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
        if (++interrupts === 1) {
            log(
                "interrupted: stopping, then removing what this run created (interrupt again to quit at once; the next run removes what is left)",
            );
            controller.abort();
        } else {
            console.error(
                "[measure] quitting at once; anything left carries this stack's measure label and the next run removes it first",
            );
            process.exit(EXIT.interrupted);
        }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
        return await measure(options, controller);
    } catch (e) {
        if (controller.signal.aborted || isCancelled(e) || (e as { cancelled?: boolean }).cancelled) {
            log("interrupted before any figure was taken");
            return EXIT.interrupted;
        }
        console.error(`measure: ${(e as Error).message}`);
        return EXIT.error;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(EXIT.error);
        },
    );
}
