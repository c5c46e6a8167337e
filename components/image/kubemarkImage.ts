// KubemarkImage: fetch the release's source, patch, build kubemark and push its image, as Pulumi resources.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { defaultCacheDir, IMAGE_SCRIPT, imagePlan, ImageSourceKind } from "./plan";
import type { Settings } from "../config/settings";
import { imageTag, patchesFor, SourcePatch } from "./patches";

export { defaultCacheDir };
export type { ImageSourceKind };

export interface KubemarkImageArgs {
    /** Kubernetes release, vMAJOR.MINOR.PATCH. Required. */
    version: string;
    /** Registry to push to, host[:port][/path]. Required. */
    registry: string;
    /** Image tag: the version plus the patch set (see imageTag). Required. */
    tag: string;
    /** Patches to apply, in order. Defaults to none. */
    patches?: readonly SourcePatch[];
    /**
     * `git` (a shallow clone of the tag, the guide's way) or `module` (k8s.io/kubernetes from the Go module proxy).
     * Defaults to DEFAULT_IMAGE_SOURCE.
     */
    source?: ImageSourceKind;
    /** Repository to clone for the git source: URL or file:// path. Defaults to DEFAULT_GIT_REPOSITORY. */
    gitRepository?: string;
    /** Cache folder for sources and build contexts, shared by stacks. Defaults to defaultCacheDir(). */
    cacheDir?: string;
    /** Base image of the kubemark image. Defaults to DEFAULT_BASE_IMAGE (upstream's go-runner). */
    baseImage?: string;
    /** Repository name in the registry. Defaults to DEFAULT_IMAGE_NAME. */
    imageName?: string;
    /** Registry user, if the registry needs one. Defaults to none. */
    registryUsername?: pulumi.Input<string>;
    /** Registry password; stored as a secret. Defaults to none. */
    registryPassword?: pulumi.Input<string>;
}

export class KubemarkImage extends pulumi.ComponentResource {
    /** `<registry>/<name>@sha256:…`: pods roll when a rebuild changes it. */
    public readonly imageRef: pulumi.Output<string>;
    /** `<registry>/<name>:<tag>`. */
    public readonly imageName: pulumi.Output<string>;

    constructor(name: string, args: KubemarkImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubemark:index:KubemarkImage", name, {}, opts);
        const plan = imagePlan({ ...args, cacheDir: args.cacheDir ?? defaultCacheDir(process.env) });
        let previous: command.local.Command | undefined;
        for (const step of plan.steps) {
            previous = new command.local.Command(`${name}-${step.name}`, {
                create: `bash ${IMAGE_SCRIPT} ${step.name}`,
                environment: step.env,
                triggers: step.chained && previous ? [previous.stdout, ...step.triggers] : [...step.triggers],
            }, { parent: this, dependsOn: previous ? [previous] : [] });
        }
        const build = previous as command.local.Command;

        this.imageName = pulumi.output(plan.imageName);
        const image = new docker.Image(`${name}-image`, {
            imageName: this.imageName,
            build: {
                // Known only once the build ran: the context must not be read at a first preview.
                context: build.stdout.apply(() => plan.contextDir),
                dockerfile: path.join(plan.contextDir, "Dockerfile"),
                platform: "linux/amd64",
            },
            registry: {
                server: plan.registryServer,
                username: args.registryUsername,
                password: args.registryPassword === undefined ? undefined : pulumi.secret(args.registryPassword),
            },
        }, { parent: this, dependsOn: [build] });

        this.imageRef = image.repoDigest;
        this.registerOutputs({ imageRef: this.imageRef, imageName: this.imageName });
    }
}

/** The image a stack builds, from its settings: the release, its patches, the tag they make, where it goes. */
export function kubemarkImageArgs(s: Settings, image: { readonly registry: string; readonly name: string }): KubemarkImageArgs {
    const build = s.imageBuild;
    const patches = patchesFor(s.kubernetesVersion, {
        crioSocket: build.patchCrio ? s.criSocket : undefined, proxyHealth: build.patchProxyHealth, fleet: build.patchFleet,
    });
    return {
        version: s.kubernetesVersion.text, registry: image.registry, imageName: image.name,
        tag: imageTag(s.kubernetesVersion, patches), patches,
        source: build.source, gitRepository: build.gitRepository, cacheDir: build.cacheDir, baseImage: build.baseImage,
        registryUsername: build.registryUsername, registryPassword: build.registryPassword,
    };
}
