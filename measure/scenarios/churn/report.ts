// The churn's report: whether each kill held and took, each killed hollow Node's way down and back, the stack after.
import { countsOverTimeSvg } from "../../charts/charts";
import { commonRows, RunRecord } from "../../report";
import { row, SliRow } from "../../slo";
import { spread } from "../../stats";
import type { Chart } from "../scenario";
import type { ChurnOutcome, KilledNode } from "./model";
import {
    downSecondsToNotice,
    KillVerdict,
    killVerdict,
    MONITOR_SECONDS,
    noticeSeconds,
    RENEW_SECONDS,
} from "./verdict";

const judged = (o: ChurnOutcome) => o.killed.map((k) => ({ k, v: killVerdict(k, o.graceSeconds, o.downSeconds) }));
const held = (k: KilledNode, o: ChurnOutcome) => k.heldSeconds ?? o.downSeconds;
const graceText = (o: ChurnOutcome) =>
    `grace ${o.graceSeconds} s${o.graceKnown ? ` (${o.targetVersion}'s default)` : " (assumed)"} ` +
    `+ ${RENEW_SECONDS} s renewal + ${MONITOR_SECONDS} s monitor period`;

/** The failing rows of one killed Node: each way its kill did not hold or did not take, bound 0 so that it fails. */
function killRows(k: KilledNode, v: KillVerdict, o: ChurnOutcome): SliRow[] {
    const rows: SliRow[] = [];
    if (v.renewedInside.length > 0) {
        rows.push(
            row(
                `kill of hollow Node ${k.node}: Lease renewed inside its window`,
                v.renewedInside.length,
                "renewals",
                0,
                `at ${v.renewedInside.join(", ")} s after the kill; held ${held(k, o)} s: something beat for it while its pod was down`,
            ),
        );
    }
    if (v.didNotTake) {
        rows.push(
            row(
                `kill of hollow Node ${k.node}: did not take`,
                1,
                "kills",
                0,
                `never NotReady although held ${held(k, o)} s, longer than the ${noticeSeconds(o.graceSeconds)} s the target needs (${graceText(o)})`,
            ),
        );
    }
    if (v.replacedInside) {
        rows.push(
            row(
                `kill of hollow Node ${k.node}: replaced inside its window`,
                1,
                "kills",
                0,
                `pod ${k.replacementPod} came ${-(k.replacementSeconds ?? 0)} s before the window ended`,
            ),
        );
    }
    return rows;
}

export function churnRows(o: ChurnOutcome): SliRow[] {
    const all = judged(o);
    const failing = all.filter(({ v }) => v.renewedInside.length > 0 || v.didNotTake || v.replacedInside);
    const tooShort = all.filter(({ v }) => v.tooShort);
    const gone = [...new Set(o.killed.filter((k) => k.gone).map((k) => k.pod))];
    const killed = o.killed.filter((k) => !k.gone);
    const notReady = spread(killed.flatMap((k) => (k.notReadySeconds === undefined ? [] : [k.notReadySeconds])));
    const back = spread(killed.flatMap((k) => (k.readySeconds === undefined ? [] : [k.readySeconds])));
    const replaced = spread([
        ...new Map(
            killed.flatMap((k) => (k.replacementSeconds === undefined ? [] : [[k.pod, k.replacementSeconds] as const])),
        ).values(),
    ]);
    const gaps = spread(killed.flatMap((k) => (k.leaseGapSeconds === undefined ? [] : [k.leaseGapSeconds])));
    const notBack = killed.filter((k) => k.readySeconds === undefined).map((k) => k.node);
    const longest = Math.max(0, ...tooShort.map(({ k }) => held(k, o)));
    return [
        row(
            "kills that did not hold or did not take",
            failing.length,
            "Nodes",
            0,
            failing.length > 0
                ? failing.map(({ k }) => k.node).join(", ")
                : `${killed.length} killed Node(s): no Lease renewal inside a window, no replacement before its end, NotReady wherever the window let the target notice`,
        ),
        ...failing.flatMap(({ k, v }) => killRows(k, v, o)),
        ...(tooShort.length > 0
            ? [
                  row(
                      "killed hollow Nodes never NotReady: window too short for the target to notice",
                      tooShort.length,
                      "Nodes",
                      undefined,
                      `${tooShort.map(({ k }) => k.node).join(", ")}: held at most ${longest} s, not more than the ${noticeSeconds(o.graceSeconds)} s ` +
                          `the target needs (${graceText(o)}); use --down-seconds ${downSecondsToNotice(o.graceSeconds)} or more`,
                  ),
              ]
            : []),
        ...(gone.length > 0
            ? [
                  row(
                      "kills that found their pod already gone",
                      gone.length,
                      "pods",
                      undefined,
                      `${gone.join(", ")}: nothing killed`,
                  ),
              ]
            : []),
        row(
            "killed hollow Nodes marked NotReady, slowest",
            notReady?.max,
            "s",
            undefined,
            `${notReady?.count ?? 0} of ${killed.length}; the target waits for ${graceText(o)} after the last heartbeat`,
        ),
        row(
            "killed hollow Nodes Ready again (or replaced), slowest, after the kill",
            back?.max,
            "s",
            undefined,
            `includes --down-seconds; ${back?.count ?? 0} of ${killed.length}`,
        ),
        row(
            "replacement pod after the window, slowest",
            replaced?.max,
            "s",
            undefined,
            "from the window's end to the pod's first sighting: the hold's release, then the workload controller's own pace",
        ),
        row(
            "killed hollow Nodes not back",
            notBack.length,
            "Nodes",
            0,
            notBack.length === 0 ? undefined : notBack.join(", "),
        ),
        row("Lease renewal gap, longest", gaps?.max, "s", undefined, "renewTime has microsecond resolution"),
        row(
            "Nodes no pod stands behind after the churn",
            o.final.stale.length,
            "Nodes",
            o.workloadKind === "StatefulSet" ? 0 : undefined,
            o.final.sweepAdvice ??
                `${o.final.registered} registered, ${o.final.ready} Ready, ${o.final.replicas} expected`,
        ),
        row(
            "stack's Nodes Ready behind a pod after the churn",
            o.final.ready,
            "Nodes",
            undefined,
            `of ${o.final.replicas} replicas`,
        ),
        ...commonRows(o.nodes, undefined, undefined, true),
    ];
}

/**
 * Kills that measured nothing: the pod was gone when its kill came. A kill that did not hold or did not take is no
 * precondition but a finding (a failing row above): the churn is what failed.
 */
export function churnPreconditions(o: ChurnOutcome): string[] {
    const gone = [...new Map(o.killed.filter((k) => k.gone).map((k) => [k.pod, k.kill])).entries()];
    return gone.map(
        ([pod, kill]) =>
            `kill ${kill}: hollow pod ${pod} was already gone (or replaced) when its kill came, so it measured nothing`,
    );
}

const v = (x: number | undefined) => (x === undefined ? "—" : String(x));
const cell = (s: string) => s.replace(/\|/g, "\\|");

function verdictText(k: KilledNode, kv: KillVerdict): string {
    if (k.gone) {
        return "not killed";
    }
    const bad = [
        ...(kv.renewedInside.length > 0 ? [`did not hold: renewed at ${kv.renewedInside.join(", ")} s`] : []),
        ...(kv.replacedInside ? ["did not hold: replaced inside its window"] : []),
        ...(kv.didNotTake ? ["did not take: never NotReady"] : []),
    ];
    return bad.length > 0 ? bad.join("; ") : kv.tooShort ? "held; window too short to notice" : "held and took";
}

/** The report's sections after the SLI table. */
export function churnMarkdown(_record: RunRecord, o: ChurnOutcome, _charts: readonly Chart[]): string[] {
    const lines = [
        "## Each killed hollow Node",
        "",
        "Seconds after the kill. Held: until the hold's release (the window, shorter when the run stopped early). NotReady is " +
            "the first look (once a second) that found the Ready condition not True; API is that condition's lastTransitionTime, " +
            "in whole seconds. Renewals are its Lease's renewTime values seen after the kill (the hollow kubelet's clock); one " +
            "inside the window, past the first 2 s, means the kill did not hold. Replacement: seconds after the window's end " +
            "when the pod standing in for the killed one was first seen. Evictions are of a load run's pods on that Node.",
        "",
        "| Node | pod | kill | killed at s | held s | NotReady (look / API) | Lease renewals | taints added | evictions | Lease gap s | " +
            "replacement | back after | verdict | outcome |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...judged(o).map(
            ({ k, v: kv }) =>
                `| ${k.node} | ${k.pod} | ${k.kill} | ${k.killSeconds} | ${v(k.heldSeconds)} | ` +
                `${v(k.notReadySeconds)} / ${v(k.notReadyApiSeconds)} | ${k.renewals.length === 0 ? "—" : k.renewals.join(", ")} | ` +
                `${k.taints.length === 0 ? "—" : k.taints.map((t) => `${t.key}:${t.effect} at ${t.seconds}`).join("<br>")} | ` +
                `${k.evictions.length === 0 ? "—" : `${k.evictions.length} (first at ${k.evictions[0].seconds}${k.evictions[0].reason ? `, ${k.evictions[0].reason}` : ""})`} | ` +
                `${v(k.leaseGapSeconds)} | ${k.replacementPod === undefined ? "—" : `${k.replacementPod} at ${k.replacementSeconds}`} | ` +
                `${v(k.readySeconds)} | ${verdictText(k, kv)} | ${cell(k.outcome ?? "")} |`,
        ),
        "",
    ];
    const policies = [...new Set(o.killed.flatMap((k) => (k.policy ? [k.policy] : [])))];
    lines.push(
        "## How the kills were held",
        "",
        "Each killed pod was held terminating by the finalizer `kubemark-pulumi/churn-hold` for its window: its containers stop, " +
            "and a StatefulSet makes no pod under its name while it is there." +
            (policies.length === 0
                ? ""
                : ` A ReplicaSet's or ReplicationController's pod comes back under a new name: for each such kill a ` +
                  `ValidatingAdmissionPolicy and its binding in the node cluster refused the pods of the killed pod's owner for the window ` +
                  `(${policies.map((p) => `\`${p}\``).join(", ")}), removed when it ended, before the pod's release queues the owner again.`) +
            ` The target (${o.targetVersion ?? "version unknown"}) marks a silent Node NotReady after its node-monitor-grace-period: ` +
            `${graceText(o)} = ${noticeSeconds(o.graceSeconds)} s at most; --down-seconds was ${o.downSeconds}.` +
            (o.leftovers.length === 0
                ? ""
                : ` Left by an interrupted churn and removed first: ${o.leftovers.join(", ")}.`),
        "",
    );
    lines.push(
        "## The stack afterwards",
        "",
        `${o.final.registered} Nodes registered with the stack's label, ${o.final.ready} Ready behind a pod, ${o.final.replicas} replicas.` +
            (o.final.stale.length > 0 ? ` ${o.final.sweepAdvice}.` : " None orphaned."),
        "",
    );
    return lines;
}

export function churnCharts(o: ChurnOutcome): Chart[] {
    const title = "Ready hollow Nodes over the churn";
    const points = o.nodes.samples.map((s) => ({ t: s.t, series: "Ready", value: s.ready }));
    const events = [...new Map(o.killed.map((k) => [k.pod, { t: k.killSeconds, label: `kill ${k.pod}` }])).values()];
    return points.length === 0
        ? []
        : [{ file: "ready-nodes.svg", title, svg: countsOverTimeSvg(title, points, "hollow Nodes", events) }];
}
