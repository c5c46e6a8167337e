// The program's side of a dynamic resource: its provider's code serialized once per program version, not every run.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultCacheDir } from "../config/defaults";
import { DYNAMIC_TYPE_PREFIX, PROVIDER_CODE_KEY } from "./dynamic";

/**
 * What decides the serialized code: the program's own modules as loaded (every file under the project, not its
 * node_modules), and the versions of what turns them into code (Node.js, the SDK's serializer, TypeScript).
 */
export function programKey(): string {
    const root = process.cwd();
    const hash = createHash("sha256");
    const version = (pkg: string) => {
        try {
            return (require(`${pkg}/package.json`) as { version?: string }).version ?? "?";
        } catch {
            return "none";
        }
    };
    hash.update(`${process.version}\0${version("@pulumi/pulumi")}\0${version("typescript")}\0`);
    const files = Object.keys(require.cache)
        .filter((f) => f.startsWith(`${root}${path.sep}`) && !f.includes(`${path.sep}node_modules${path.sep}`)).sort();
    for (const file of files) {
        hash.update(`${path.relative(root, file)}\0`);
        hash.update(fs.readFileSync(file));
    }
    return hash.digest("hex");
}

let key: string | undefined;

/** Forgets the key, as a new run of the program would (tests). */
export function forgetProgramKey(): void {
    key = undefined;
}

/**
 * The provider's serialized code. Pulumi serializes a dynamic provider's closure on every run (some tenths of a
 * second each, more than the rest of a no-op `up` over a bare program); its text changes only with the program, so
 * it is kept on disk under a key of the program's modules and reused until any of them changes.
 */
export async function providerCode(provider: pulumi.dynamic.ResourceProvider, type: string): Promise<string> {
    key ??= programKey();
    const dir = path.join(defaultCacheDir(process.env), "providers");
    const file = path.join(dir, `${type}-${key}.js`);
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        // Not serialized yet for this program.
    }
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    if (!sf.containsSecrets) {
        // Written whole or not at all: a concurrent run reads either nothing or the complete text.
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.${os.hostname()}.tmp`;
        fs.writeFileSync(tmp, sf.text);
        fs.renameSync(tmp, file);
    }
    return sf.text;
}

/** A dynamic resource of this program, typed `pulumi-nodejs:dynamic/kubemark:<type>` like pulumi.dynamic.Resource. */
export abstract class DynamicResource extends pulumi.CustomResource {
    protected constructor(provider: pulumi.dynamic.ResourceProvider, type: string, name: string, props: pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions) {
        super(`${DYNAMIC_TYPE_PREFIX}${type}`, name, { ...props, [PROVIDER_CODE_KEY]: pulumi.output(providerCode(provider, type)) }, opts);
    }
}
