// KubemarkImage: fetch the release's source, patch, build kubemark and push its image, as Pulumi resources.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { DEFAULT_BASE_IMAGE, DEFAULT_GIT_REPOSITORY, DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SOURCE, IMAGE_SOURCES } from "./config";
import type { SourcePatch } from "./patches";

export type ImageSourceKind = typeof IMAGE_SOURCES[number];
/** Relative to the project root, where Pulumi runs the program: state stays the same across clones. */
const SCRIPT = "scripts/kubemark-image.sh";

export interface KubemarkImageArgs {
    /** Kubernetes release, vMAJOR.MINOR.PATCH. Required. */
    version: string;
    /** Registry to push to, host[:port][/path]. Required. */
    registry: string;
    /** Image tag: the version plus the patch set (see imageTag). Required. */
    tag: string;
    /** Patches to apply, in order. Defaults to none. */
    patches?: readonly SourcePatch[];
    /** `git` (a shallow clone of the tag, the guide's way) or `module` (k8s.io/kubernetes from the Go module proxy). Defaults to git. */
    source?: ImageSourceKind;
    /** Repository to clone for the git source: URL or file:// path. Defaults to DEFAULT_GIT_REPOSITORY. */
    gitRepository?: string;
    /** Cache folder for sources and build contexts, shared by stacks. Defaults to ~/.cache/kubemark-pulumi. */
    cacheDir?: string;
    /** Base image of the kubemark image. Defaults to upstream's go-runner. */
    baseImage?: string;
    /** Repository name in the registry. Defaults to kubemark. */
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
        const source = args.source ?? DEFAULT_IMAGE_SOURCE;
        const cacheDir = args.cacheDir ?? defaultCacheDir(process.env);
        const patches = args.patches ?? [];
        const patchSet = patches.length > 0 ? patches.map((p) => p.id).join("-") : "none";
        const contextDir = path.join(cacheDir, "images", `${args.version}-${patchSet}-${source}`);
        const env = {
            KM_VERSION: args.version,
            KM_SOURCE: source,
            KM_CACHE: cacheDir,
            KM_GIT_URL: args.gitRepository ?? DEFAULT_GIT_REPOSITORY,
        };
        const step = (role: string, script: string, environment: Record<string, pulumi.Input<string>>,
            triggers: pulumi.Input<unknown>[], dependsOn: pulumi.Resource[]) =>
            new command.local.Command(`${name}-${role}`, {
                create: `bash ${SCRIPT} ${script}`,
                environment,
                triggers,
            }, { parent: this, dependsOn });

        const preflight = step("preflight", "preflight", { KM_VERSION: env.KM_VERSION, KM_SOURCE: source, KM_CACHE: cacheDir },
            [source], []);
        const fetch = step("fetch", "fetch", env, [args.version, source, env.KM_GIT_URL], [preflight]);
        const patch = step("patch", "patch", {
            ...env, KM_PATCHSET: patchSet, KUBEMARK_PATCHES: JSON.stringify(patches),
        }, [fetch.stdout], [fetch]);
        const baseImage = args.baseImage ?? DEFAULT_BASE_IMAGE;
        const build = step("build", "build", {
            ...env, KM_PATCHSET: patchSet, KM_CONTEXT: contextDir, KM_BASE_IMAGE: baseImage,
        }, [patch.stdout, baseImage], [patch]);

        this.imageName = pulumi.output(`${args.registry}/${args.imageName ?? DEFAULT_IMAGE_NAME}:${args.tag}`);
        const image = new docker.Image(`${name}-image`, {
            imageName: this.imageName,
            build: {
                // Known only once the build ran: the context must not be read at a first preview.
                context: build.stdout.apply(() => contextDir),
                dockerfile: path.join(contextDir, "Dockerfile"),
                platform: "linux/amd64",
            },
            registry: {
                server: args.registry.split("/")[0],
                username: args.registryUsername,
                password: args.registryPassword === undefined ? undefined : pulumi.secret(args.registryPassword),
            },
        }, { parent: this, dependsOn: [build] });

        this.imageRef = image.repoDigest;
        this.registerOutputs({ imageRef: this.imageRef, imageName: this.imageName });
    }
}

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
    return path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? "/root", ".cache"), "kubemark-pulumi");
}
