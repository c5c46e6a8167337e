// End to end in the lab: hollow kubelets whose image service is the worker's own containerd (imageService host).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { NEWEST_TESTED } from "../components/config/releases";
import { BUSYBOX_IMAGE, clientsOf, CTRD_SOCK, lab, LAB, labMissing, REGISTRY, waitUntil } from "../lab/lab";
import { hollowNodes, hollowPods, isReady, LabStacks, labImage, printFigures, report, selectorOf } from "./harness";

const skip = labMissing();
const NEWEST = NEWEST_TESTED.text;
/** The hollow kubelets' image service is the worker's own containerd, by the socket path the stack is given. */
const HOST_IMAGES = { stack: "hostimg", replicas: 2 };
/** Where kubemark dials its image service (upstream's hard-coded path; images built without the cri-o patch). */
const KUBEMARK_IMAGE_ENDPOINT = "/run/containerd/containerd.sock";

describe("imageService host in the lab", { skip }, () => {
    let stacks: LabStacks;

    before(async () => {
        const started = await lab("up", "--target", NEWEST);
        assert.equal(started.code, 0, started.out);
        stacks = new LabStacks();
        await stacks.create(HOST_IMAGES.stack, [["image", await labImage(NEWEST)], ["replicas", String(HOST_IMAGES.replicas)],
            ["imageService", "host"], ["criSocket", CTRD_SOCK]]);
    });

    after(async () => {
        printFigures();
        await stacks?.cleanUp();
        await lab("down");
    });

    it(`imageService host: hollow kubelets use the worker's containerd at criSocket; Ready, and a bound pod's image is pulled through it`, { timeout: 900_000 }, async () => {
        const { stack, replicas } = HOST_IMAGES;
        const selector = selectorOf(stack);
        const seconds = await stacks.up(stack);
        report(`pulumi up, ${replicas} hollow nodes with imageService host (criSocket ${CTRD_SOCK}): ${seconds.toFixed(1)}s to all Ready`);
        const { core } = clientsOf("target");
        const name = "on-host-images";
        // Destroyed whatever the checks find: the later tests count every hollow Node of the target.
        try {
            await checkHostImages(stack, replicas, core, name);
        } finally {
            await core.deleteNamespacedPod({ name, namespace: "default", gracePeriodSeconds: 0 }).catch(() => undefined);
            await stacks.destroy(stack);
        }
        assert.deepEqual(await hollowNodes(selector), []);
    });

    async function checkHostImages(stack: string, replicas: number, core: ReturnType<typeof clientsOf>["core"], name: string): Promise<void> {
        const selector = selectorOf(stack);
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

});
