/**
 * Paths inside an account's SFTP inbox. The inbox is a jail: every path is resolved against its
 * root `/`, and anything that would leave it (`..` above the root), or that is not a plain name
 * (control characters, backslashes, percent-encoding, non-ASCII look-alikes of `.` and `/`), is
 * refused rather than cleaned up, so a client never ends up somewhere it did not name.
 */

/** Why a path was refused; the SFTP server answers "permission denied" with this message. */
export class InboxPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InboxPathError";
  }
}

const maxPathLength = 1024;
const maxDepth = 16;
// Letters, digits, space and . _ - ( ) + , = @ ~ # only (no / \ %, no control or non-ASCII characters);
// names may start with a dot (temporary upload names such as ".report.csv.part") but are never "." or "..".
const namePattern = /^[A-Za-z0-9._ ()+,=@~#-]{1,255}$/;

/** Resolves what a client sent against the inbox root; throws InboxPathError when it is refused. */
export function resolveInboxPath(input: string, base = "/"): string {
  if (typeof input !== "string") throw new InboxPathError("The path is not text");
  if (input.length > maxPathLength)
    throw new InboxPathError(`The path is longer than ${maxPathLength} characters`);
  const joined = input.startsWith("/") ? input : `${base.replace(/\/+$/, "")}/${input}`;
  const parts: string[] = [];
  for (const segment of joined.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) throw new InboxPathError("The path leads outside the inbox");
      parts.pop();
      continue;
    }
    checkName(segment);
    parts.push(segment);
  }
  if (parts.length > maxDepth) throw new InboxPathError(`Folders nest at most ${maxDepth} deep`);
  return `/${parts.join("/")}`;
}

/** Refuses a single file or folder name that is not a plain name. */
export function checkName(name: string): void {
  if (name === "." || name === "..") throw new InboxPathError("'.' and '..' are not names");
  if (name.trim() !== name) throw new InboxPathError(`The name '${name}' starts or ends with a space`);
  if (!namePattern.test(name)) {
    throw new InboxPathError(
      `The name '${printable(name)}' has characters cqa does not accept in file names; use letters, digits, spaces and . _ - ( ) + , = @ ~ #`,
    );
  }
}

function printable(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

/** The folder holding a path (`/a/b.csv` → `/a`, `/a` → `/`). */
export function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

/** The last name of a path (`/a/b.csv` → `b.csv`; the root has none). */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** A path inside a folder of the inbox. */
export function joinInboxPath(folder: string, name: string): string {
  return folder === "/" ? `/${name}` : `${folder}/${name}`;
}

/** Whether `path` is `folder` or inside it. */
export function isInside(path: string, folder: string): boolean {
  return folder === "/" || path === folder || path.startsWith(`${folder}/`);
}

/**
 * Names clients give files while they are still uploading them (renamed when done): `*.tmp`,
 * `*.part`, `*.partial`, `*.filepart` (WinSCP), `*.upload`, `*.crdownload`, dot-files (rsync's
 * `.name.XXXXXX`) and `~` prefixes. Such files are never picked up.
 */
export function isTemporaryName(name: string): boolean {
  return (
    name.startsWith(".") ||
    name.startsWith("~") ||
    /\.(tmp|temp|part|partial|filepart|upload|uploading|crdownload|swp)$/i.test(name)
  );
}
