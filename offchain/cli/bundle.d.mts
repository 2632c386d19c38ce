/** Types of bundle.mjs (plain JavaScript: the launcher runs before tsx is loaded). */

/** The repository root. */
export declare const ROOT: string;
/** The built CLI. */
export declare const BUNDLE_FILE: string;
/** The sources it was built from. */
export declare const BUNDLE_INPUTS_FILE: string;
/** SHA-256 of `bytes`, hex. */
export declare function sha256(bytes: Uint8Array | string): string;
/** The built CLI's path when it is current, else null (run the sources). `at` names another build (tests). */
export declare function currentBundle(
  env?: Readonly<Record<string, string | undefined>>,
  at?: { root: string; bundle: string; inputs: string },
): string | null;
