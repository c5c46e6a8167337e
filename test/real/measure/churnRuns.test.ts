// npm run measure -- --scenario churn against real API servers: beside a load, on a Deployment stack, interrupted.
import * as k8s from "@kubernetes/client-node";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { PodLike } from "../../../measure/kube";
import { loadNamespace } from "../../../measure/objects";
import { HOLD_FINALIZER } from "../../../measure/scenarios/churn/hold";
import { hollowPodOf } from "../../../measure/scenarios/churn/hollowPods";
import { holdBinding, holdPolicy } from "../../../measure/scenarios/churn/policy";
import {
    admission,
    MeasureLab,
    dryRun,
    hollowPodsOf,
    measureNamespacesGone,
    policiesLeft,
    until,
    upStack,
    withNodeLifecycle,
} from "../../harness/measureLab";
import { startPair, stopPair } from "../../harness/clusterPair";
import { ControlPlane, missingTools } from "../../harness/controlPlane";
import {
    giveCapacity,
    measure,
    playLoadKubelets,
    startMeasure,
    startWorkloadControllers,
    tempDir,
    waitForOutput,
} from "../../harness/measureLoad";
import { pulumi } from "../../harness/pulumiCli";

const skip = missingTools();

const STACK = "measured";
const DEP = "churndep";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const NS = loadNamespace(STACK);
/** The test target's node-monitor-grace-period: v1.31's 40 s would make the churn tests slow. */
const GRACE_SECONDS = 8;

describe("npm run measure -- --scenario churn against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    let logs: string;
    const stops: (() => Promise<void>)[] = [];
    /** Report folders, removed with the rest at the end. */
    const outs: string[] = [];
    const outDir = (name: string) => {
        outs.push(tempDir(name));
        return outs[outs.length - 1];
    };

    const lab = (): MeasureLab => ({ nodeCluster, target, project, logs, stops });
    const waitGone = () => measureNamespacesGone(target);
    const up = (stack: string, config: [string, string][]) => upStack(lab(), stack, config);
    const hollowPods = (stack: string) => hollowPodsOf(nodeCluster, stack);

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
        logs = tempDir("measure-logs");
        await up(STACK, [["replicas", "3"]]);
        await up(DEP, [
            ["replicas", "2"],
            ["workloadKind", "Deployment"],
        ]);
        await giveCapacity(target, SELECTOR);
        stops.push(startWorkloadControllers(target, logs), playLoadKubelets(target, "kubemark-measure-"));
    });

    after(async () => {
        for (const stop of stops.reverse()) {
            await stop();
        }
        if (project) {
            for (const stack of [DEP, STACK]) {
                await pulumi(project, stack, ["destroy", "--yes", "--skip-preview"]);
            }
        }
        await stopPair({ nodeCluster, target, project });
        for (const dir of [logs, ...outs]) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    /** Heartbeats for the stacks' hollow Nodes, and the target's node lifecycle controller with a short grace. */
    const withLifecycle = <T>(stacks: string[], body: () => Promise<T>) =>
        withNodeLifecycle(lab(), stacks, GRACE_SECONDS, body);

    it(
        "beside a load: killed hollow Nodes go NotReady, the load's pods there are evicted, all come back, none orphaned",
        { timeout: 600_000 },
        async () => {
            // Both stacks beat: with the other's Nodes silent the zone is in disruption, and none is tainted NoExecute.
            await withLifecycle([STACK, DEP], async () => {
                const load = startMeasure(project, [
                    "--stack",
                    STACK,
                    "--scenario",
                    "density",
                    "--pods-per-node",
                    "4",
                    "--hold-seconds",
                    "300",
                    "--metrics-every-seconds",
                    "2",
                    "--phase-timeout-seconds",
                    "120",
                    "--toleration-seconds",
                    "2",
                    "--output",
                    outDir("measure-beside"),
                ]);
                await waitForOutput(load, /hold: 12 pods/, 180_000);
                const out = outDir("measure-churn");
                const run = await measure(project, [
                    "--stack",
                    STACK,
                    "--scenario",
                    "churn",
                    "--kills",
                    "2",
                    "--kills-per-minute",
                    "20",
                    "--down-seconds",
                    String(GRACE_SECONDS + 7),
                    "--recover-timeout-seconds",
                    "90",
                    "--node-poll-seconds",
                    "1",
                    "--output",
                    out,
                ]);
                load.signal("SIGINT");
                assert.equal((await load.done).code, 130);
                assert.equal(run.code, 0, run.out);
                console.log(
                    run.out
                        .split("\n")
                        .filter((l) => /kill|NotReady|taint|window|Ready again|down /.test(l))
                        .join("\n"),
                );
                assert.match(
                    run.out,
                    new RegExp(`a load run \\([^)]+\\) is using namespace ${NS}: its pods' evictions are recorded`),
                );
                const churn = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).churn;
                assert.equal(churn.workloadKind, "StatefulSet");
                assert.equal(churn.graceSeconds, 40, "v1.31's default, from GET /version");
                assert.deepEqual(
                    churn.killed.map((k: { node: string }) => k.node),
                    [`hollow-node-${STACK}-0`, `hollow-node-${STACK}-2`],
                );
                for (const k of churn.killed) {
                    assert.ok(
                        k.notReadySeconds > GRACE_SECONDS - 3 && k.notReadySeconds < GRACE_SECONDS + 7,
                        `${k.node}: NotReady after ${k.notReadySeconds}s`,
                    );
                    assert.ok(
                        k.taints.some(
                            (t: { key: string; effect: string }) =>
                                t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute",
                        ),
                        JSON.stringify(k.taints),
                    );
                    assert.ok(
                        k.readySeconds > GRACE_SECONDS + 7,
                        `${k.node}: Ready again after ${k.readySeconds}s, before its down window ended`,
                    );
                    assert.ok(k.leaseGapSeconds > GRACE_SECONDS + 7, `${k.node}: Lease gap ${k.leaseGapSeconds}s`);
                    assert.ok(
                        k.heldSeconds >= GRACE_SECONDS + 7 && k.heldSeconds < GRACE_SECONDS + 9,
                        `${k.node}: held ${k.heldSeconds}s`,
                    );
                    assert.equal(k.policy, undefined, "a StatefulSet needs no admission policy");
                    assert.deepEqual(
                        k.renewals.filter((s: number) => s > 2 && s < k.heldSeconds),
                        [],
                        `${k.node}: no renewal inside the window`,
                    );
                    assert.ok(
                        k.replacementSeconds >= 0 && k.replacementSeconds < 5,
                        `${k.node}: back ${k.replacementSeconds}s after the window`,
                    );
                    console.log(
                        `churn ${k.node}: NotReady after ${k.notReadySeconds}s (API ${k.notReadyApiSeconds}s), ` +
                            `taints ${k.taints.map((t: { key: string; effect: string; seconds: number }) => `${t.key}:${t.effect}@${t.seconds}s`).join(" ")}, ` +
                            `${k.evictions.length} evicted, Lease gap ${k.leaseGapSeconds}s, pod back ${k.replacementSeconds}s after the window, Ready after ${k.readySeconds}s`,
                    );
                }
                assert.ok(
                    churn.killed.some((k: { evictions: unknown[] }) => k.evictions.length > 0),
                    "the load's pods on a killed Node were evicted",
                );
                assert.equal(run.out.match(/deleted, held terminating until/g)?.length, 2, "both kills hold their pod");
                assert.equal(
                    run.out.match(/window over: hollow pod hollow-node-\S+ released; its StatefulSet brings it back/g)
                        ?.length,
                    2,
                );
                assert.match(
                    run.out,
                    /kill 1\/2 \(hollow pod \S+\): down [\d.]+ s of 15 s, Lease last renewed [\d.]+ s ago, (not yet NotReady \(grace 40 s\)|NotReady since)/,
                );
                assert.doesNotMatch(run.out, /not seen NotReady/);
                assert.deepEqual(churn.final, { registered: 3, ready: 3, replicas: 3, stale: [] });
                const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
                assert.equal(
                    report.rows.find((r: { sli: string }) => r.sli === "kills that did not hold or did not take")
                        .verdict,
                    "pass",
                );
                assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /None orphaned/);
                assert.deepEqual(await waitGone(), [], "the load's namespace is removed after its Ctrl-C");
                assert.ok(
                    !(await hollowPods(STACK)).some((p) => (p.metadata!.finalizers ?? []).includes(HOLD_FINALIZER)),
                    "nothing stays held",
                );
            });
        },
    );

    it(
        "a Deployment stack: the ReplicaSet is refused new pods for the window by an admission policy, then replaces the killed pod at once",
        { timeout: 600_000 },
        async () => {
            // What a churn killed with no cleanup would leave: its policy, made elsewhere.
            const [first] = (await hollowPods(DEP))
                .filter((p) => !p.metadata!.deletionTimestamp)
                .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!, "en", { numeric: true }));
            const owner = hollowPodOf(first as unknown as PodLike, 0)!.owner;
            const left = {
                name: "kubemark-pulumi.churn-hold.crashed.1",
                namespace: `kubemark-${DEP}`,
                owner,
                pod: first.metadata!.name!,
                stackLabelValue: `kubemark.${DEP}`,
                runId: "crashed",
                holder: "elsewhere/1",
            };
            await admission(nodeCluster).createValidatingAdmissionPolicy({
                body: holdPolicy(left) as k8s.V1ValidatingAdmissionPolicy,
            });
            await admission(nodeCluster).createValidatingAdmissionPolicyBinding({
                body: holdBinding(left) as k8s.V1ValidatingAdmissionPolicyBinding,
            });
            await withLifecycle([STACK, DEP], async () => {
                const out = outDir("measure-churn-dep");
                const run = startMeasure(project, [
                    "--stack",
                    DEP,
                    "--scenario",
                    "churn",
                    "--kills",
                    "1",
                    "--down-seconds",
                    String(GRACE_SECONDS + 7),
                    "--recover-timeout-seconds",
                    "90",
                    "--node-poll-seconds",
                    "1",
                    "--output",
                    out,
                ]);
                await waitForOutput(
                    run,
                    /kill 1\/1: hollow pod \S+ \(\S+\) deleted, held terminating, and its ReplicaSet \S+ refused new pods/,
                    120_000,
                );
                assert.match(
                    run.output(),
                    /removing ValidatingAdmissionPolicy kubemark-pulumi\.churn-hold\.crashed\.1, left by an interrupted churn/,
                );
                const refusal = await dryRun(nodeCluster, `kubemark-${DEP}`, owner);
                assert.match(
                    refusal,
                    /ValidatingAdmissionPolicy 'kubemark-pulumi\.churn-hold\.[^']+\.1' with binding/,
                    "refused inside the window",
                );
                const inside = (await hollowPods(DEP)).filter((p) => !p.metadata!.deletionTimestamp);
                assert.equal(
                    inside.length,
                    1,
                    `the ReplicaSet runs one pod short: ${inside.map((p) => p.metadata!.name)}`,
                );
                await waitForOutput(
                    run,
                    /kill 1: window over: admission policy \S+ removed; hollow pod \S+ released/,
                    60_000,
                );
                assert.equal(
                    await dryRun(nodeCluster, `kubemark-${DEP}`, owner),
                    "admitted",
                    "admitted once the window is over",
                );
                const done = await run.done;
                assert.equal(done.code, 0, done.out);
                console.log(
                    done.out
                        .split("\n")
                        .filter((l) => /kill|NotReady|taint|window|replace|Ready again|down /.test(l))
                        .join("\n"),
                );
                const churn = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).churn;
                assert.equal(churn.workloadKind, "ReplicaSet");
                assert.deepEqual(churn.leftovers.sort(), [
                    "ValidatingAdmissionPolicy kubemark-pulumi.churn-hold.crashed.1",
                    "ValidatingAdmissionPolicyBinding kubemark-pulumi.churn-hold.crashed.1",
                ]);
                const [k] = churn.killed;
                assert.equal(k.node, first.metadata!.name);
                assert.match(k.policy, /^kubemark-pulumi\.churn-hold\.\S+\.1$/);
                assert.ok(
                    k.notReadySeconds > GRACE_SECONDS - 3 && k.notReadySeconds < GRACE_SECONDS + 7,
                    `NotReady after ${k.notReadySeconds}s`,
                );
                assert.ok(
                    k.replacementSeconds >= 0 && k.replacementSeconds < 5,
                    `replacement ${k.replacementSeconds}s after the window`,
                );
                assert.equal(k.replacedBy.length, 1);
                assert.deepEqual(churn.final.stale, [k.node], "the killed Node stays until pulumi up sweeps it");
                assert.deepEqual(await policiesLeft(nodeCluster), []);
                const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
                assert.equal(
                    report.rows.find((r: { sli: string }) => r.sli === "kills that did not hold or did not take")
                        .verdict,
                    "pass",
                );
            });
        },
    );

    it(
        "Ctrl-C inside a Deployment kill's window: the policy is removed and the pod released, so the ReplicaSet heals",
        { timeout: 300_000 },
        async () => {
            const run = startMeasure(project, [
                "--stack",
                DEP,
                "--scenario",
                "churn",
                "--kills",
                "1",
                "--down-seconds",
                "300",
                "--output",
                outDir("measure-churn-int"),
            ]);
            await waitForOutput(run, /kill 1\/1: hollow pod \S+ \(\S+\) deleted/, 120_000);
            assert.equal((await policiesLeft(nodeCluster)).length, 2, "a policy and its binding during the window");
            run.signal("SIGINT");
            const done = await run.done;
            assert.equal(done.code, 130, done.out);
            assert.match(done.out, /kill 1: window over: admission policy \S+ removed; hollow pod \S+ released/);
            assert.deepEqual(await policiesLeft(nodeCluster), []);
            const pods = await until("the ReplicaSet back to 2 pods", 30_000, async () => {
                const live = (await hollowPods(DEP)).filter((p) => !p.metadata!.deletionTimestamp);
                return live.length === 2 ? live : undefined;
            });
            assert.ok(
                !(await hollowPods(DEP)).some((p) => (p.metadata!.finalizers ?? []).includes(HOLD_FINALIZER)),
                "nothing stays held",
            );
            console.log(
                `interrupted inside the window: policy removed, ReplicaSet back to ${pods.map((p) => p.metadata!.name).join(", ")}`,
            );
        },
    );
});
