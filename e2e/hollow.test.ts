// End to end in the lab: kubemark pods from the image built for the stack's release register Ready Nodes.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../components/config/settings";
import { buildImage } from "../lab/buildImage";
import { copyProject, pulumi, pulumiStart } from "../test/harness/pulumiCli";
import { inLabNetns, NETNS } from "../lab/hostNet";
import {
    BUSYBOX_IMAGE, clientsOf, CTRD_SOCK, DOCKER_ENV, kubeconfigFile, lab, LAB, labMissing, podUsage, REGISTRY, sleep, spread, waitUntil, WORKER,
} from "../lab/lab";

const skip = labMissing();
const STACK = "lab";
const NS = `kubemark-${STACK}`;
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const OLD = { stack: "lab130", version: "v1.30.14" };
/** Several hollow nodes per pod: 4 per pod, so 10 is two full pods and a last pod of 2. */
const DENSE = { stack: "dense", perPod: 4 };
/** The hollow kubelets' image service is the worker's own containerd, by the socket path the stack is given. */
const HOST_IMAGES = { stack: "hostimg", replicas: 2 };
/** Where kubemark dials its image service (upstream's hard-coded path; images built without the cri-o patch). */
const KUBEMARK_IMAGE_ENDPOINT = "/run/containerd/containerd.sock";
const figures: string[] = [];
const report = (line: string) => {
    figures.push(line);
    console.log(`[e2e] ${line}`);
};

async function hollowNodes(selector = SELECTOR) {
    return (await clientsOf("target").core.listNode({ labelSelector: selector })).items;
}
const isReady = (n: { status?: { conditions?: { type: string; status: string }[] } }) =>
    (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

async function hollowPods(namespace = NS) {
    return (await clientsOf("node").core.listNamespacedPod({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

describe("hollow nodes for real in the lab", { skip }, () => {
    let project: string;
    const images: Record<string, string> = {};
    const cli = (stack: string, args: string[]) => pulumi(project, stack, args);

    async function configure(stack: string, values: [string, string][]): Promise<void> {
        for (const [k, v] of values) {
            const set = await cli(stack, ["config", "set", k, v]);
            assert.equal(set.code, 0, `config set ${k}: ${set.out}`);
        }
    }

    async function up(stack: string): Promise<number> {
        const run = await cli(stack, ["up", "--yes", "--skip-preview"]);
        assert.equal(run.code, 0, run.out);
        return run.seconds;
    }

    before(async () => {
        // The clusters' addresses, which pods use too, are in the lab's network namespace: so is this process.
        assert.ok(inLabNetns(), `not inside network namespace ${NETNS}: run through lab/exec.sh (npm run test:e2e does)`);
        // Fresh clusters: nothing a previous run (or a demo) left in them counts here.
        const reset = await lab("down", "--wipe");
        assert.equal(reset.code, 0, reset.out);
        const started = await lab("up");
        assert.equal(started.code, 0, started.out);
        report(`lab up: ${started.seconds.toFixed(1)}s`);
        for (const version of ["v1.31.0", OLD.version]) {
            const env = { ...process.env, ...DOCKER_ENV };
            const cold = await buildImage(version, REGISTRY, env);
            const warm = await buildImage(version, REGISTRY, env);
            assert.equal(warm.digestRef, cold.digestRef, "a rebuild of the same release and patches is the same image");
            const total = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);
            report(`image ${version}: first build and push this run ${total(cold.seconds).toFixed(1)}s ` +
                `(${Object.entries(cold.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(", ")}); again ${total(warm.seconds).toFixed(1)}s`);
            images[version] = cold.digestRef;
        }
        project = copyProject(["Pulumi.lab.yaml"]);
        fs.copyFileSync(`${project}/Pulumi.lab.yaml`, `${project}/Pulumi.${OLD.stack}.yaml`);
        fs.copyFileSync(`${project}/Pulumi.lab.yaml`, `${project}/Pulumi.${DENSE.stack}.yaml`);
        fs.copyFileSync(`${project}/Pulumi.lab.yaml`, `${project}/Pulumi.${HOST_IMAGES.stack}.yaml`);
        for (const stack of [STACK, OLD.stack, DENSE.stack, HOST_IMAGES.stack]) {
            assert.equal((await cli(stack, ["stack", "init"])).code, 0);
            await configure(stack, [["nodeKubeconfig", kubeconfigFile("node")], ["targetKubeconfig", kubeconfigFile("target")]]);
        }
        await configure(STACK, [["image", images["v1.31.0"]]]);
        // The older release also runs unprivileged: no init container, the hollow kubelet without privilege.
        await configure(OLD.stack, [["image", images[OLD.version]], ["kubernetesVersion", OLD.version], ["replicas", "3"], ["privileged", "false"]]);
        await configure(DENSE.stack, [["image", images["v1.31.0"]], ["nodesPerPod", String(DENSE.perPod)]]);
        await configure(HOST_IMAGES.stack, [["image", images["v1.31.0"]], ["replicas", String(HOST_IMAGES.replicas)],
            ["imageService", "host"], ["criSocket", CTRD_SOCK]]);
    });

    after(async () => {
        console.log(`\n[e2e] figures:\n${figures.map((f) => `  ${f}`).join("\n")}`);
        if (project) {
            for (const stack of [HOST_IMAGES.stack, DENSE.stack, OLD.stack, STACK]) {
                await cli(stack, ["destroy", "--yes", "--skip-preview"]);
            }
            fs.rmSync(project, { recursive: true, force: true });
        }
        const down = await lab("down");
        console.log(`[e2e] lab down: ${down.seconds.toFixed(1)}s (exit ${down.code})`);
    });

    it("pulumi up: 10 Ready hollow Nodes of the stack's release, from the lab registry's image by digest", { timeout: 900_000 }, async () => {
        const seconds = await up(STACK);
        report(`pulumi up, 10 hollow nodes: ${seconds.toFixed(1)}s from start to all Ready`);
        const { core, apps } = clientsOf("node");
        await core.readNamespace({ name: NS });
        // Least privilege: the node cluster holds no admin key of the target, only the nodes' own certificates.
        const adminKey = /client-key-data: (\S+)/.exec(fs.readFileSync(kubeconfigFile("target"), "utf8"))![1];
        const secrets = (await core.listNamespacedSecret({ namespace: NS })).items;
        assert.deepEqual(secrets.map((x) => x.metadata!.name).sort(), [`hollow-node-${STACK}-certs-0`, `hollow-node-${STACK}-kubeconfig`]);
        for (const secret of secrets) {
            const text = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, "base64").toString()).join("\n");
            assert.ok(!text.includes(adminKey) && !text.includes(Buffer.from(adminKey, "base64").toString()), `${secret.metadata!.name} holds the admin key`);
        }
        const csrs = await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: `kubemark-pulumi/stack=kubemark.${STACK}` });
        assert.equal(csrs.items.filter((c) => c.status?.certificate).length, 10, "one issued certificate per hollow node");
        assert.ok(csrs.items.every((c) => c.spec.signerName === "kubernetes.io/kube-apiserver-client-kubelet"));
        await apps.readNamespacedStatefulSet({ name: `hollow-node-${STACK}`, namespace: NS });
        const nodes = await hollowNodes();
        assert.equal(nodes.length, 10);
        for (const node of nodes) {
            assert.ok(isReady(node), `${node.metadata?.name} not Ready`);
            assert.equal(node.status?.nodeInfo?.kubeletVersion, "v1.31.0");
            assert.equal(node.metadata?.labels?.["hollow-node"], "true");
            assert.ok(node.spec?.taints?.some((t) => t.key === "kubemark-pulumi/hollow-node" && t.effect === "NoSchedule"));
        }
        const pods = await hollowPods();
        assert.equal(pods.length, 10);
        for (const pod of pods) {
            assert.equal(pod.spec?.nodeName, WORKER);
            for (const c of pod.spec?.containers ?? []) {
                assert.equal(c.image, images["v1.31.0"], "pods run the pushed digest");
            }
        }
    });

    it("every hollow pod keeps running, the patched hollow proxy included; usage of one pod at N = 10", { timeout: 300_000 }, async () => {
        await sleep(45_000);
        for (const pod of await hollowPods()) {
            const statuses = pod.status?.containerStatuses ?? [];
            assert.deepEqual(statuses.map((s) => s.name).sort(), ["hollow-kubelet", "hollow-proxy"]);
            for (const s of statuses) {
                assert.ok(s.state?.running, `${pod.metadata?.name}/${s.name} is not running: ${JSON.stringify(s.state)}`);
                assert.equal(s.restartCount, 0, `${pod.metadata?.name}/${s.name} restarted`);
            }
        }
        reportUsage(10, await podUsage(NS));
    });

    it("a pod bound to a hollow Node is reported Running by its hollow kubelet", { timeout: 180_000 }, async () => {
        const { core } = clientsOf("target");
        const nodeName = `hollow-node-${STACK}-0`;
        await core.createNamespacedPod({
            namespace: "default",
            body: {
                metadata: { name: "on-hollow" },
                spec: {
                    nodeName,
                    tolerations: [{ key: "kubemark-pulumi/hollow-node", operator: "Exists" }],
                    containers: [{ name: "app", image: "registry.example/app:1" }],
                },
            },
        });
        const seconds = await waitUntil("pod on a hollow Node Running",
            async () => (await core.readNamespacedPod({ name: "on-hollow", namespace: "default" })).status?.phase === "Running", 120_000);
        report(`pod bound to ${nodeName}: Running after ${seconds.toFixed(1)}s`);
        await core.deleteNamespacedPod({ name: "on-hollow", namespace: "default", gracePeriodSeconds: 0 });
    });

    it("a second up changes nothing", { timeout: 300_000 }, async () => {
        const run = await cli(STACK, ["preview", "--expect-no-changes"]);
        assert.equal(run.code, 0, run.out);
        report(`no-change preview: ${run.seconds.toFixed(1)}s`);
    });

    it("scale to 50: all Ready, usage of one pod at N = 50", { timeout: 1_200_000 }, async () => {
        await configure(STACK, [["replicas", "50"]]);
        const seconds = await up(STACK);
        report(`pulumi up 10 -> 50 hollow nodes: ${seconds.toFixed(1)}s to all Ready`);
        assert.equal((await hollowNodes()).filter(isReady).length, 50);
        await sleep(45_000);
        reportUsage(50, await podUsage(NS));
    });

    it("scale to 5: exactly 5 hollow Nodes; a hollow pod deleted by hand leaves no extra Node", { timeout: 900_000 }, async () => {
        await configure(STACK, [["replicas", "5"]]);
        await up(STACK);
        const names = (await hollowNodes()).map((n) => n.metadata!.name!).sort();
        assert.deepEqual(names, [0, 1, 2, 3, 4].map((i) => `hollow-node-${STACK}-${i}`));
        await clientsOf("node").core.deleteNamespacedPod({ name: `hollow-node-${STACK}-2`, namespace: NS });
        await up(STACK);
        assert.deepEqual((await hollowNodes()).map((n) => n.metadata!.name!).sort(), names);
        assert.equal((await hollowNodes()).filter(isReady).length, 5);
    });

    it("a hollow pod killed mid-up is replaced and the up still converges", { timeout: 900_000 }, async () => {
        await configure(STACK, [["replicas", "8"]]);
        const run = pulumiStart(project, STACK, ["up", "--yes", "--skip-preview"]);
        const victim = `hollow-node-${STACK}-6`;
        const { core } = clientsOf("node");
        await waitUntil(`${victim} running`, async () =>
            (await core.readNamespacedPod({ name: victim, namespace: NS })).status?.phase === "Running", 300_000, 500);
        await core.deleteNamespacedPod({ name: victim, namespace: NS, gracePeriodSeconds: 0 });
        const done = await run.done;
        assert.equal(done.code, 0, done.out);
        report(`up 5 -> 8 with ${victim} killed midway: converged in ${done.seconds.toFixed(1)}s`);
        assert.equal((await hollowNodes()).filter(isReady).length, 8);
    });

    it(`${DENSE.perPod} hollow nodes per pod: register as <pod>-<k>; scale down across a pod boundary and back; destroy leaves nothing`, { timeout: 1_200_000 }, async () => {
        const selector = `${STACK_LABEL_KEY}=kubemark.${DENSE.stack}`;
        const ns = `kubemark-${DENSE.stack}`;
        const w = `hollow-node-${DENSE.stack}`;
        const names = async () => (await hollowNodes(selector)).map((n) => n.metadata!.name!).sort();
        const readyCount = async () => (await hollowNodes(selector)).filter(isReady).length;
        const seconds = await up(DENSE.stack);
        report(`pulumi up, 10 hollow nodes at ${DENSE.perPod} per pod (3 pods): ${seconds.toFixed(1)}s from start to all Ready`);
        const full = (pod: number) => [0, 1, 2, 3].map((k) => `${w}-${pod}-${k}`);
        assert.deepEqual(await names(), [...full(0), ...full(1), `${w}-last-0-0`, `${w}-last-0-1`].sort());
        assert.equal(await readyCount(), 10);
        const pods = await hollowPods(ns);
        assert.deepEqual(pods.map((p) => p.metadata!.name!).sort(), [`${w}-0`, `${w}-1`, `${w}-last-0`]);
        const csrs = await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: selector });
        assert.equal(csrs.items.filter((c) => c.status?.certificate).length, 10, "one certificate per hollow node, not per pod");
        await sleep(30_000);
        for (const pod of await hollowPods(ns)) {
            for (const st of pod.status?.containerStatuses ?? []) {
                assert.ok(st.state?.running && st.restartCount === 0, `${pod.metadata?.name}/${st.name}: ${JSON.stringify(st.state)}, ${st.restartCount} restarts`);
            }
        }
        const usage = await podUsage(ns);
        const fullPod = usage.get(`${w}-0`)!;
        const sum = (prefix: string, k: "memoryMiB" | "millicores") => Object.entries(fullPod).filter(([c]) => c.startsWith(prefix)).reduce((a, [, u]) => a + u[k], 0);
        report(`one pod of ${DENSE.perPod}: kubelets ${sum("hollow-kubelet", "memoryMiB").toFixed(1)} MiB, ${sum("hollow-kubelet", "millicores").toFixed(1)}m; ` +
            `proxies ${sum("hollow-proxy", "memoryMiB").toFixed(1)} MiB, ${sum("hollow-proxy", "millicores").toFixed(1)}m`);

        // 10 -> 6: pod 1 goes with its four Nodes; the last pod keeps its two.
        await configure(DENSE.stack, [["replicas", "6"]]);
        const down = await up(DENSE.stack);
        report(`up 10 -> 6 at ${DENSE.perPod} per pod: ${down.toFixed(1)}s`);
        assert.deepEqual(await names(), [...full(0), `${w}-last-0-0`, `${w}-last-0-1`].sort());
        // 6 -> 8: two full pods, no last pod; its Nodes are swept.
        await configure(DENSE.stack, [["replicas", "8"]]);
        const back = await up(DENSE.stack);
        report(`up 6 -> 8 at ${DENSE.perPod} per pod: ${back.toFixed(1)}s`);
        assert.deepEqual(await names(), [...full(0), ...full(1)].sort());
        assert.equal(await readyCount(), 8);
        assert.deepEqual((await hollowPods(ns)).map((p) => p.metadata!.name!).sort(), [`${w}-0`, `${w}-1`]);

        const destroy = await cli(DENSE.stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        report(`destroy of 8 hollow nodes at ${DENSE.perPod} per pod: ${destroy.seconds.toFixed(1)}s`);
        assert.deepEqual(await names(), []);
        const leases = (await clientsOf("target").coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items.map((l) => l.metadata!.name!);
        assert.deepEqual(leases.filter((l) => l.startsWith(`${w}-`)), []);
        assert.deepEqual((await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: selector })).items, []);
    });

    it(`imageService host: hollow kubelets use the worker's containerd at criSocket; Ready, and a bound pod's image is pulled through it`, { timeout: 900_000 }, async () => {
        const { stack, replicas } = HOST_IMAGES;
        const selector = `${STACK_LABEL_KEY}=kubemark.${stack}`;
        const seconds = await up(stack);
        report(`pulumi up, ${replicas} hollow nodes with imageService host (criSocket ${CTRD_SOCK}): ${seconds.toFixed(1)}s to all Ready`);
        const { core } = clientsOf("target");
        const name = "on-host-images";
        // Destroyed whatever the checks find: the later tests count every hollow Node of the target.
        try {
            await checkHostImages(stack, replicas, core, name);
        } finally {
            await core.deleteNamespacedPod({ name, namespace: "default", gracePeriodSeconds: 0 }).catch(() => undefined);
            const destroy = await cli(stack, ["destroy", "--yes", "--skip-preview"]);
            assert.equal(destroy.code, 0, destroy.out);
        }
        assert.deepEqual(await hollowNodes(selector), []);
    });

    async function checkHostImages(stack: string, replicas: number, core: ReturnType<typeof clientsOf>["core"], name: string): Promise<void> {
        const selector = `${STACK_LABEL_KEY}=kubemark.${stack}`;
        assert.equal((await hollowNodes(selector)).filter(isReady).length, replicas);
        const pods = await hollowPods(`kubemark-${stack}`);
        assert.equal(pods.length, replicas);
        for (const pod of pods) {
            // The lab's socket path on the worker, mounted where kubemark dials it.
            const socket = pod.spec?.volumes?.find((v) => v.name === "cri-socket")?.hostPath;
            assert.deepEqual({ path: socket?.path, type: socket?.type }, { path: CTRD_SOCK, type: "Socket" });
            const kubelet = pod.spec!.containers.find((c) => c.name === "hollow-kubelet")!;
            assert.ok(kubelet.volumeMounts?.some((m) => m.name === "cri-socket" && m.mountPath === KUBEMARK_IMAGE_ENDPOINT), JSON.stringify(kubelet.volumeMounts));
            assert.ok(kubelet.args?.includes("--use-host-image-service=true"), JSON.stringify(kubelet.args));
        }
        // The worker kubelet reports container states after a while: a hollow kubelet can have its Node Ready first.
        let states = "";
        await waitUntil("hollow containers reported running", async () => {
            const now = await hollowPods(`kubemark-${stack}`);
            const all = now.flatMap((p) => (p.status?.containerStatuses ?? []).map((st) => ({ pod: p.metadata?.name, st })));
            states = all.map(({ pod, st }) => `${pod}/${st.name}: ${JSON.stringify(st.state)}, ${st.restartCount} restarts`).join("; ");
            return all.length === 2 * replicas && all.every(({ st }) => st.state?.running);
        }, 120_000).catch((e: Error) => assert.fail(`${e.message}: ${states}`));
        assert.ok(!/[1-9]\d* restarts/.test(states), states);
        // A pod bound to one of them, pulled every time: the worker's containerd fetches it from the lab registry.
        const reply = await fetch(`http://${REGISTRY}/v2/lab/busybox/manifests/1.35.0`, {
            headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
        });
        // The image as the registry names it (manifest) and as containerd does (its config, the image ID).
        const digests = [reply.headers.get("docker-content-digest") ?? "", ((await reply.json()) as { config: { digest: string } }).config.digest];
        assert.ok(digests.every((d) => /^sha256:[0-9a-f]{64}$/.test(d)), digests.join(", "));
        const nodeName = `hollow-node-${stack}-0`;
        // Log times have whole-second or finer resolution; a second's slack keeps a pull in the same second.
        const bound = Date.now() - 1000;
        await core.createNamespacedPod({
            namespace: "default",
            body: {
                metadata: { name },
                spec: {
                    nodeName,
                    tolerations: [{ key: "kubemark-pulumi/hollow-node", operator: "Exists" }],
                    containers: [{ name: "app", image: BUSYBOX_IMAGE, imagePullPolicy: "Always" }],
                },
            },
        });
        const running = await waitUntil("pod on a hollow Node with the host's image service Running",
            async () => (await core.readNamespacedPod({ name, namespace: "default" })).status?.phase === "Running", 120_000);
        const status = (await core.readNamespacedPod({ name, namespace: "default" })).status?.containerStatuses?.[0];
        // kubemark's own image service would report a made-up ID; the worker's containerd reports the image's.
        assert.ok(digests.some((d) => status?.imageID?.endsWith(d)), `imageID ${status?.imageID}: neither of the registry's ${digests.join(", ")}`);
        // Hollow kubelets post no events (kubemark gives them no event client): the worker's containerd logs the pull.
        const pulls = fs.readFileSync(`${LAB}/logs/containerd.log`, "utf8").split("\n")
            .filter((l) => l.includes(`PullImage \\"${BUSYBOX_IMAGE}\\" returns image reference`))
            .map((l) => Date.parse(/^time="([^"]+)"/.exec(l)?.[1] ?? "")).filter((t) => t >= bound);
        assert.ok(pulls.length >= 1, `no PullImage of ${BUSYBOX_IMAGE} in the worker containerd's log since the pod was bound`);
        report(`pod bound to ${nodeName} (image through ${CTRD_SOCK}): Running after ${running.toFixed(1)}s; the worker's containerd pulled it ${pulls.length} time(s)`);
    }

    it(`two releases side by side: ${OLD.version} Nodes next to v1.31.0 ones; destroying one leaves the other`, { timeout: 900_000 }, async () => {
        await up(OLD.stack);
        const old = await hollowNodes(`${STACK_LABEL_KEY}=kubemark.${OLD.stack}`);
        assert.equal(old.filter(isReady).length, 3);
        const oldPods = await hollowPods(`kubemark-${OLD.stack}`);
        assert.ok(oldPods.every((p) => (p.spec?.initContainers ?? []).length === 0 && !JSON.stringify(p.spec).includes('"privileged":true')),
            "privileged false: no init container and nothing privileged");
        assert.ok(old.every((n) => n.status?.nodeInfo?.kubeletVersion === OLD.version));
        assert.ok((await hollowNodes()).every((n) => n.status?.nodeInfo?.kubeletVersion === "v1.31.0"));
        const before = (await hollowNodes()).map((n) => `${n.metadata!.name}@${n.metadata!.uid}`).sort();
        const destroy = await cli(OLD.stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.deepEqual(await hollowNodes(`${STACK_LABEL_KEY}=kubemark.${OLD.stack}`), []);
        assert.deepEqual((await hollowNodes()).map((n) => `${n.metadata!.name}@${n.metadata!.uid}`).sort(), before);
    });

    it("destroy with the target API server stopped fails within the bound; once it is back, destroy leaves nothing", { timeout: 900_000 }, async () => {
        const pid = Number(fs.readFileSync(`${LAB}/run/kube-apiserver-target.pid`, "utf8"));
        // An outage, not a shutdown: with hollow kubelets connected, a graceful stop drains for up to a minute.
        process.kill(pid, "SIGKILL");
        // The lab's daemons are children of pid 1 here, which reaps them late: a zombie has stopped.
        const gone = () => !fs.existsSync(`/proc/${pid}/stat`) || fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
        await waitUntil("target API server stopped", async () => gone(), 30_000, 200);
        const refused = await cli(STACK, ["destroy", "--yes", "--skip-preview"]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.out, /cannot reach the target cluster's API server/);
        report(`destroy with the target down: failed after ${refused.seconds.toFixed(1)}s (bound 120s)`);
        assert.ok(refused.seconds < 240);
        const back = await lab("up");
        assert.equal(back.code, 0, back.out);
        const destroy = await cli(STACK, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        report(`pulumi destroy of 8 hollow nodes: ${destroy.seconds.toFixed(1)}s`);
        const target = clientsOf("target");
        assert.deepEqual((await target.core.listNode({ labelSelector: "hollow-node=true" })).items.map((n) => n.metadata!.name), []);
        const leases = (await target.coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items.map((l) => l.metadata!.name!);
        assert.deepEqual(leases.filter((l) => l.startsWith("hollow-node-")), []);
        await waitUntil(`${NS} gone`, async () => !(await clientsOf("node").core.listNamespace()).items.some((n) => n.metadata?.name === NS), 120_000);
        const worker = await clientsOf("node").core.readNode({ name: WORKER });
        assert.ok(isReady(worker), "the lab's real worker is untouched and Ready");
    });
});

function reportUsage(n: number, usage: Map<string, Record<string, { memoryMiB: number; rssMiB: number; millicores: number }>>): void {
    assert.equal(usage.size, n, `stats for ${usage.size} of ${n} hollow pods`);
    for (const container of ["hollow-kubelet", "hollow-proxy"]) {
        const of = (k: "memoryMiB" | "millicores") => spread([...usage.values()].map((p) => p[container]?.[k] ?? 0));
        const mem = of("memoryMiB");
        const cpu = of("millicores");
        assert.ok(mem.min > 0, `${container}: no memory reading`);
        report(`N = ${n}, ${container}: working set ${mem.mean.toFixed(1)} MiB (${mem.min.toFixed(1)}-${mem.max.toFixed(1)}), ` +
            `CPU ${cpu.mean.toFixed(1)}m (${cpu.min.toFixed(1)}-${cpu.max.toFixed(1)}) per pod`);
    }
}
