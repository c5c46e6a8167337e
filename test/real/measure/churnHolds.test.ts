// The churn's holds against a real node cluster: admission policies refuse the owner's pods, releases and leftovers.
import * as k8s from "@kubernetes/client-node";
import assert from "node:assert/strict";
import * as os from "node:os";
import { after, before, describe, it } from "node:test";
import { realClock } from "../../../components/kube/async";
import { kubernetesClusterApi } from "../../../components/kube/clusterApi";
import { REQUEST_MS } from "../../../components/kube/dynamic";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import type { RunContext } from "../../../measure/context";
import { kube, PodLike } from "../../../measure/kube";
import { defaultOptions } from "../../../measure/options";
import { poolScope } from "../../../measure/pools";
import { HOLD_FINALIZER, Holds } from "../../../measure/scenarios/churn/hold";
import { hollowPodOf } from "../../../measure/scenarios/churn/hollowPods";
import { holdBinding, holdPolicy } from "../../../measure/scenarios/churn/policy";
import { admission, dryRun, policiesLeft, sleep, until } from "../../harness/measureLab";
import { ControlPlane, missingTools } from "../../harness/controlPlane";
import { clients } from "../../harness/fakeKubelets";

const skip = missingTools();

describe("the churn's holds against a real node cluster", { skip }, () => {
    const NS = "kubemark-holds";
    let cp: ControlPlane;
    const controller = new AbortController();
    const logged: string[] = [];
    let cx: RunContext;

    before(async () => {
        cp = await ControlPlane.start("holds", "workloads");
        const { core, apps } = clients(cp);
        await core.createNamespace({ body: { metadata: { name: NS } } });
        const labels = { app: "hollow" };
        await apps.createNamespacedReplicaSet({
            namespace: NS,
            body: {
                metadata: { name: "hollow" },
                spec: {
                    replicas: 2,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
                    },
                },
            },
        });
        const stack = {
            stack: "holds",
            targetKubeconfig: cp.kubeconfig,
            nodeKubeconfig: cp.kubeconfig,
            selector: `${STACK_LABEL_KEY}=kubemark.holds`,
            labelValue: "kubemark.holds",
            namespace: NS,
            podSelector: "app=hollow",
            replicas: 2,
            nodesPerPod: 1,
        };
        const startMs = Date.now();
        cx = {
            options: defaultOptions("holds", "churn"),
            stack,
            // The holds touch no pool: every hollow pod of the stack is the churn's to kill.
            pools: poolScope([], undefined),
            target: kube(cp.kubeconfig),
            nodeCluster: kube(cp.kubeconfig, controller.signal),
            targetNodes: kubernetesClusterApi(cp.kubeconfig, REQUEST_MS),
            nodePods: kubernetesClusterApi(cp.kubeconfig, REQUEST_MS),
            clock: realClock,
            signal: controller.signal,
            log: (m) => logged.push(m),
            runId: "20260101t000000000z-abc123",
            startMs,
            deadlineMs: startMs + 600_000,
            created: { namespaces: [], priorityClasses: [] },
        };
        // The API server admits pods only once the namespace's default ServiceAccount exists; the ReplicaSet retries.
        await until("the ReplicaSet's 2 pods", 60_000, async () => {
            const pods = (await core.listNamespacedPod({ namespace: NS })).items.filter(
                (p) => !p.metadata!.deletionTimestamp,
            );
            return pods.length === 2 ? pods : undefined;
        });
    });

    after(async () => {
        await cp?.stop();
    });

    const livePods = async () => (await clients(cp).core.listNamespacedPod({ namespace: NS })).items;

    it(
        "a ReplicaSet's killed pod: its owner's pods refused during the window, admitted after; the release brings the replacement at once",
        { timeout: 120_000 },
        async () => {
            const holds = new Holds(cx, kube(cp.kubeconfig));
            const [victim] = (await livePods())
                .map((p) => hollowPodOf(p as unknown as PodLike, 0)!)
                .sort((a, b) => a.name.localeCompare(b.name));
            assert.equal(victim.owner.kind, "ReplicaSet");
            assert.equal(victim.owner.apiVersion, "apps/v1");
            await holds.check([victim]);
            assert.equal(await dryRun(cp, NS, victim.owner), "admitted", "no policy yet");

            const hold = (await holds.hold(1, victim))!;
            assert.equal(hold.policy, "kubemark-pulumi.churn-hold.20260101t000000000z-abc123.1");
            const refusal = await dryRun(cp, NS, victim.owner);
            assert.match(
                refusal,
                new RegExp(
                    `ValidatingAdmissionPolicy '${hold.policy!.replace(/\./g, "\\.")}' with binding .* denied request: ` +
                        "kubemark-pulumi measure churn \\(run 20260101t000000000z-abc123\\) keeps ReplicaSet hollow one pod short",
                ),
            );
            assert.match(refusal, /"code":403/);
            const other = { ...victim.owner, uid: "00000000-0000-0000-0000-000000000000" };
            assert.equal(await dryRun(cp, NS, other), "admitted", "another owner's pods are not refused");

            await clients(cp).core.deleteNamespacedPod({ name: victim.name, namespace: NS, gracePeriodSeconds: 0 });
            await sleep(4000);
            const during = await livePods();
            assert.deepEqual(
                during.filter((p) => p.metadata!.deletionTimestamp).map((p) => p.metadata!.name),
                [victim.name],
                "the killed pod is held",
            );
            assert.equal(
                during.filter((p) => !p.metadata!.deletionTimestamp).length,
                1,
                "no replacement inside the window",
            );
            const events = (await clients(cp).core.listNamespacedEvent({ namespace: NS })).items;
            assert.ok(
                events.some((e) => e.reason === "FailedCreate" && /churn-hold/.test(e.message ?? "")),
                "the ReplicaSet's creates were refused",
            );

            const released = Date.now();
            await holds.release(hold, cx.log);
            assert.equal(await dryRun(cp, NS, victim.owner), "admitted", "the policy is gone once the release returns");
            const replacement = await until("a replacement pod", 30_000, async () =>
                (await livePods()).find(
                    (p) =>
                        !p.metadata!.deletionTimestamp &&
                        p.metadata!.name !== victim.name &&
                        Date.parse(p.metadata!.creationTimestamp!.toString()) >= released - 1000,
                ),
            );
            const after = (Date.now() - released) / 1000;
            console.log(`replacement ${replacement.metadata!.name} ${after}s after the release; ${logged.join(" / ")}`);
            assert.ok(after < 5, `the release queues the ReplicaSet at once, out of its backoff: ${after}s`);
            assert.ok(!(await livePods()).some((p) => p.metadata!.name === victim.name), "the killed pod is gone");
            assert.deepEqual(await policiesLeft(cp), []);
            assert.match(
                logged.join("\n"),
                /kill 1: window over: admission policy \S+ removed; hollow pod \S+ released; its ReplicaSet may replace it/,
            );
        },
    );

    it(
        "leftovers: a dead run's policy and a held pod are released first, a live run's policy is left alone",
        { timeout: 60_000 },
        async () => {
            const [pod] = (await livePods()).filter((p) => !p.metadata!.deletionTimestamp);
            const owner = hollowPodOf(pod as unknown as PodLike, 0)!.owner;
            const made = (runId: string, holder: string) => ({
                name: `kubemark-pulumi.churn-hold.${runId}.1`,
                namespace: NS,
                owner,
                pod: pod.metadata!.name!,
                stackLabelValue: "kubemark.holds",
                runId,
                holder,
            });
            const dead = made("dead", "elsewhere/1");
            // A run of this machine is alive while its process is: the test runner's own.
            const live = made("live", `${os.hostname()}/${process.ppid}`);
            for (const p of [dead, live]) {
                await admission(cp).createValidatingAdmissionPolicy({
                    body: holdPolicy(p) as k8s.V1ValidatingAdmissionPolicy,
                });
                await admission(cp).createValidatingAdmissionPolicyBinding({
                    body: holdBinding(p) as k8s.V1ValidatingAdmissionPolicyBinding,
                });
            }
            pod.metadata!.finalizers = [HOLD_FINALIZER];
            await clients(cp).core.replaceNamespacedPod({ name: pod.metadata!.name!, namespace: NS, body: pod });
            const removed = await new Holds(cx, kube(cp.kubeconfig)).removeLeftovers();
            assert.deepEqual(
                removed.sort(),
                [
                    `ValidatingAdmissionPolicy ${dead.name}`,
                    `ValidatingAdmissionPolicyBinding ${dead.name}`,
                    `held pod ${pod.metadata!.name}`,
                ].sort(),
            );
            assert.deepEqual((await policiesLeft(cp)).sort(), [`binding ${live.name}`, `policy ${live.name}`]);
            assert.deepEqual(
                (await clients(cp).core.readNamespacedPod({ name: pod.metadata!.name!, namespace: NS })).metadata!
                    .finalizers ?? [],
                [],
            );
            await admission(cp).deleteValidatingAdmissionPolicyBinding({ name: live.name });
            await admission(cp).deleteValidatingAdmissionPolicy({ name: live.name });
        },
    );
});
