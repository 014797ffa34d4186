import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

// scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB of memory per hash, about 50-100 ms on a server core.
const cost = 2 ** 15;
const blockSize = 8;
const parallelization = 1;
const keyLength = 64;
const saltLength = 16;
// Bounds on parameters read back from storage, so a corrupted row cannot ask for gigabytes.
const maxCost = 2 ** 20;
const maxBlockSize = 32;
const maxParallelization = 16;

const minPasswordLength = 12;
const maxPasswordLength = 1024;

/** Hashes a password with scrypt as `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltLength);
  const hash = await deriveKey(password, salt, keyLength, { N: cost, r: blockSize, p: parallelization });
  return ["scrypt", cost, blockSize, parallelization, salt.toString("base64"), hash.toString("base64")].join(
    "$",
  );
}

/**
 * Whether a password matches a stored hash. The cost parameters come from the stored string, so
 * they can be raised for new hashes without breaking old ones. An unrecognised stored value
 * (e.g. a marker for "no password set") matches nothing.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : 0));
  if (N === undefined || r === undefined || p === undefined) return false;
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > maxCost || r < 1 || r > maxBlockSize || p < 1 || p > maxParallelization)
    return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length < 16) return false;
  const actual = await deriveKey(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** What is wrong with a proposed password, as sentences for the API answer; empty when it is fine. */
export function passwordProblems(password: string): string[] {
  const characters = [...password];
  const problems: string[] = [];
  if (characters.length < minPasswordLength) {
    problems.push(
      `The password must be at least ${minPasswordLength} characters long (it has ${characters.length}).`,
    );
  }
  if (characters.length > maxPasswordLength) {
    problems.push(
      `The password must be at most ${maxPasswordLength} characters long (it has ${characters.length}).`,
    );
  }
  if (characters.length > 0 && characters.every((character) => character === characters[0])) {
    problems.push("The password must not be a single character repeated.");
  }
  return problems;
}

function deriveKey(
  password: string,
  salt: Buffer,
  length: number,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  // scrypt needs 128 × N × r bytes; Node's default maxmem (32 MiB) is exactly that at N=2^15, r=8
  // and rejects it, so allow twice the need.
  const options: ScryptOptions = {
    ...params,
    maxmem: 2 * 128 * params.N * params.r * params.p + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    // NFC: an accented password typed as one code point or as letter + accent is the same password.
    scrypt(password.normalize("NFC"), salt, length, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
