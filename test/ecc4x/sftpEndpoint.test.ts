// cqa's SFTP endpoint against real clients (the OpenSSH `sftp` program, ssh2-sftp-client, a raw ssh2
// client): each account's users are jailed to its inbox, logins are checked, and only complete uploads
// under their final name are ever read.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import ssh2 from "ssh2";
import type SftpClient from "ssh2-sftp-client";
import { openSshSftp, reportFile, simulatedCall, vlaReport } from "../support/ecc4xSimulators.ts";
import { type Ecc4xRig, sftpPassword, startEcc4xRig } from "./ecc4xRig.ts";

/** Every file under a folder, recursively (the blob store's files). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** A fresh ed25519 key pair made by ssh-keygen: the private key file and the public key line. */
function keyPair(name: string): { privateKeyPath: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), "cqa-key-"));
  const privateKeyPath = join(dir, name);
  const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privateKeyPath]);
  assert.equal(made.status, 0, String(made.stderr));
  return { privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, "utf8").trim() };
}

describe("SFTP endpoint: jail, logins and upload completion", () => {
  let rig: Ecc4xRig;
  let bUser: { username: string; password: string };
  let a: SftpClient;
  let b: SftpClient;
  const bPassword = "account-b-uploader-pass";

  before(async () => {
    rig = await startEcc4xRig();
    await rig.createSftpIntegration();
    // Account B on the same cqa, with its own SFTP user.
    const accountB = await rig.cqa.createAccount({ name: "Account B" });
    bUser = { username: `b-${rig.target.username}`, password: bPassword };
    const created = await rig.cqa.request("POST", `/api/v1/accounts/${accountB.accountId}/sftp-users`, {
      apiKey: accountB.apiKey,
      body: bUser,
    });
    assert.equal(created.status, 201, created.text);
    a = await rig.sftpClient();
    b = await rig.sftpClient({ ...rig.target, ...bUser });
  });
  after(() => rig?.stop());

  test("an SFTP user of account B cannot read, list or write anything of account A, with .., absolute paths, links or encoded names", async () => {
    await a.mkdir("/reports");
    await a.put(Buffer.from("secret of A"), "/reports/a-secret.txt");
    await a.put(Buffer.from("also A"), "/a-top.txt");
    await b.put(Buffer.from("B's own"), "/b-own.txt");
    assert.deepEqual(
      (await b.list("/")).map((f) => f.name),
      ["b-own.txt"],
      "B's inbox shows only B's file",
    );
    const escapes = [
      "..",
      "../",
      "/..",
      "/../..",
      "../reports/a-secret.txt",
      "/../a-top.txt",
      "reports/../../a-top.txt",
      "./../../../etc/passwd",
      `../${rig.account.accountId}/a-top.txt`,
      "%2e%2e/a-top.txt",
      "..%2fa-top.txt",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "..\\a-top.txt",
      "\u2025/a-top.txt",
      "\uff0e\uff0e/a-top.txt",
      "/b-own.txt\u0000/../../a-top.txt",
    ];
    for (const path of escapes) {
      await assert.rejects(b.list(path), `list ${JSON.stringify(path)} is refused`);
      await assert.rejects(b.get(path), `get ${JSON.stringify(path)} is refused`);
      await assert.rejects(b.put(Buffer.from("x"), path), `put ${JSON.stringify(path)} is refused`);
      await assert.rejects(b.mkdir(path), `mkdir ${JSON.stringify(path)} is refused`);
      await assert.rejects(b.rename("/b-own.txt", path), `rename to ${JSON.stringify(path)} is refused`);
    }
    // Absolute paths are inside the jail: the host's files and A's names do not exist there.
    for (const path of [
      "/etc/passwd",
      "/a-top.txt",
      "/reports/a-secret.txt",
      `/sftp/${rig.account.accountId}`,
    ]) {
      await assert.rejects(b.get(path), /No such file/, path);
    }
    // Links: none can be made or followed (ssh2-sftp-client has no symlink call: its SFTP channel does).
    const raw = (b as unknown as { sftp: ssh2.SFTPWrapper }).sftp;
    const link = (target: string, path: string) =>
      new Promise<void>((resolve, reject) =>
        raw.symlink(target, path, (error) => (error ? reject(error) : resolve())),
      );
    await assert.rejects(link("/etc/passwd", "/passwd-link"), /Links are not supported/);
    await assert.rejects(link("../a-top.txt", "/a-link"), /Links are not supported/);
    await assert.rejects(
      new Promise((resolve, reject) =>
        raw.readlink("/b-own.txt", (error, target) => (error ? reject(error) : resolve(target))),
      ),
      /Links are not supported/,
    );

    // The same with the OpenSSH client in batch mode ("-" lets the batch go on after a refusal).
    const downloads = mkdtempSync(join(tmpdir(), "cqa-b-downloads-"));
    const openSsh = await openSshSftp(
      { ...rig.target, ...bUser },
      [
        "-get ../a-top.txt",
        "-get /../reports/a-secret.txt",
        "-ls ..",
        "-cd ..",
        "-ls -l",
        "-ln -s /etc/passwd passwd",
        "-symlink ../a-top.txt a-link",
        "-put /etc/hostname ../escaped.txt",
        "-rename b-own.txt ../moved.txt",
        "ls -l /",
      ],
      downloads,
    );
    assert.equal(openSsh.code, 0, openSsh.stderr);
    assert.deepEqual(
      readdirSync(downloads).filter((f) => !["batch", "known_hosts", "askpass"].includes(f)),
      [],
    );
    const printed = openSsh.stdout
      .split("\n")
      .filter((line) => !line.startsWith("sftp> "))
      .join("\n");
    assert.doesNotMatch(printed, /a-top|a-secret|reports|passwd|escaped|moved/);
    assert.match(printed, /b-own\.txt/);
    assert.match(openSsh.stderr, /outside the inbox|Permission denied/);

    // Nothing of A changed, nothing of B landed anywhere but B's inbox, and no file was made outside
    // the blob store's per-account folders.
    assert.deepEqual((await a.list("/")).map((f) => f.name).sort(), ["a-top.txt", "reports"]);
    assert.equal(String(await a.get("/reports/a-secret.txt")), "secret of A");
    assert.deepEqual(
      (await b.list("/")).map((f) => f.name),
      ["b-own.txt"],
    );
    const blobRoot = rig.cqa.running.config.blobDir;
    for (const file of filesUnder(blobRoot)) {
      assert.match(file.slice(blobRoot.length), /^\/(sftp|recordings)\/[0-9a-f-]{36}\//, file);
    }
  });

  test("wrong passwords, unknown users, unregistered keys and disabled users are refused; a registered key gets in", async () => {
    const refused = /Permission denied/;
    const wrongPassword = await openSshSftp({ ...rig.target, password: "not the password at all" }, ["ls"]);
    assert.notEqual(wrongPassword.code, 0);
    assert.match(wrongPassword.stderr, refused);
    const othersPassword = await openSshSftp({ ...rig.target, password: bPassword }, ["ls"]);
    assert.match(othersPassword.stderr, refused, "B's password does not open A's user");
    const unknownUser = await openSshSftp({ ...rig.target, username: "nobody-here" }, ["ls"]);
    assert.match(unknownUser.stderr, refused);

    const registered = keyPair("vla-module");
    const stranger = keyPair("stranger");
    const users = (await rig.api("GET", "/sftp-users")).body.data.sftp_users;
    const userId = users.find((u: { username: string }) => u.username === rig.target.username).sftp_user_id;
    const patched = await rig.api("PATCH", `/sftp-users/${userId}`, { public_keys: [registered.publicKey] });
    assert.equal(patched.status, 200, patched.text);
    assert.match(patched.body.data.public_keys[0].fingerprint, /^SHA256:/);

    const withKey = await openSshSftp({ ...rig.target, privateKeyPath: registered.privateKeyPath }, ["ls /"]);
    assert.equal(withKey.code, 0, withKey.stderr);
    const withStranger = await openSshSftp({ ...rig.target, privateKeyPath: stranger.privateKeyPath }, [
      "ls /",
    ]);
    assert.match(withStranger.stderr, refused);
    const keyOnOtherUser = await openSshSftp(
      { ...rig.target, username: bUser.username, privateKeyPath: registered.privateKeyPath },
      ["ls /"],
    );
    assert.match(keyOnOtherUser.stderr, refused, "A's key does not open B's user");

    await rig.api("PATCH", `/sftp-users/${userId}`, { disabled: true });
    const disabled = await openSshSftp(rig.target, ["ls"]);
    assert.match(disabled.stderr, refused);
    const disabledKey = await openSshSftp({ ...rig.target, privateKeyPath: registered.privateKeyPath }, [
      "ls",
    ]);
    assert.match(disabledKey.stderr, refused);
    await rig.api("PATCH", `/sftp-users/${userId}`, { disabled: false });
    const back = await openSshSftp(rig.target, ["ls"]);
    assert.equal(back.code, 0, back.stderr);
  });

  test("an upload interrupted half-way is never processed and leaves nothing; the whole file uploaded again is", async () => {
    const calls = Array.from({ length: 5 }, (_, i) => simulatedCall("CAINT", i));
    rig.voiceLog.publish(...calls.map((c) => c.call_sid));
    const report = Buffer.from(vlaReport(calls));

    // A raw ssh2 client writes the first half, then the connection dies before the file is closed.
    const connection = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      connection.on("ready", resolve).on("error", reject);
      connection.connect({
        host: rig.target.host,
        port: rig.target.port,
        username: rig.target.username,
        password: sftpPassword,
      });
    });
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
      connection.sftp((error, s) => (error ? reject(error) : resolve(s))),
    );
    const handle = await new Promise<Buffer>((resolve, reject) =>
      sftp.open("/vla_interrupted.csv", "w", (error, h) => (error ? reject(error) : resolve(h))),
    );
    const half = Math.floor(report.length / 2);
    await new Promise<void>((resolve, reject) =>
      sftp.write(handle, report, 0, half, 0, (error) => (error ? reject(error) : resolve())),
    );
    connection.destroy();

    // The OpenSSH client killed (SIGKILL) in the middle of a larger upload.
    const big = reportFile("vla_killed.csv", Buffer.alloc(48 * 1024 * 1024, "x"));
    const blobRoot = rig.cqa.running.config.blobDir;
    const partials = () => filesUnder(blobRoot).filter((f) => f.endsWith(".partial"));
    const killed = spawnOpenSshPut(rig, big.path);
    await rig.until("the upload is under way", async () =>
      partials().some((f) => statSync(f).size > 1024 * 1024),
    );
    killed.kill("SIGKILL");
    await rig.until("the server dropped the partial upload", async () => partials().length === 0);

    const listing = (await a.list("/")).map((f) => f.name);
    assert.ok(
      !listing.includes("vla_interrupted.csv") && !listing.includes("vla_killed.csv"),
      listing.join(),
    );
    assert.equal((await rig.statuses())["completed"] ?? 0, 0);
    const stored = await rig.cqa.db.query(
      "SELECT 1 FROM interactions WHERE external_interaction_id LIKE 'CAINT%'",
    );
    assert.equal(stored.rowCount, 0, "nothing of the partial file was read");

    // The same report uploaded whole: read, analysed, moved.
    await a.put(report, "/vla_interrupted.csv");
    await rig.until("the re-uploaded report is read", async () => {
      const rows = await rig.cqa.db.query(
        "SELECT 1 FROM interactions WHERE external_interaction_id LIKE 'CAINT%'",
      );
      return rows.rowCount === 5;
    });
    await rig.until("it moved to processed/", async () =>
      (await a.list("/processed").catch(() => [])).some((f) => f.name === "vla_interrupted.csv"),
    );
  });

  test("a report under a temporary name is not read until it is renamed to its final name", async () => {
    const calls = Array.from({ length: 3 }, (_, i) => simulatedCall("CATMP", i));
    rig.voiceLog.publish(...calls.map((c) => c.call_sid));
    await a.put(Buffer.from(vlaReport(calls)), "/vla_2026-04-03.csv.part");
    const count = async () =>
      (await rig.cqa.db.query("SELECT 1 FROM interactions WHERE external_interaction_id LIKE 'CATMP%'"))
        .rowCount;
    // A run of the integration now (as the daily schedule would) still leaves it alone.
    const integrations = (await rig.api("GET", "/integrations")).body.data.integrations;
    const run = await rig.api("POST", `/integrations/${integrations[0].integration_id}/run`, {});
    assert.equal(run.status, 202, run.text);
    await rig.until("the run finished", async () => {
      const jobs = await rig.cqa.db.query("SELECT 1 FROM jobs WHERE kind = 'integration.run'");
      return jobs.rowCount === 0;
    });
    assert.equal(await count(), 0);
    assert.ok((await a.list("/")).some((f) => f.name === "vla_2026-04-03.csv.part"));
    await a.rename("/vla_2026-04-03.csv.part", "/vla_2026-04-03.csv");
    await rig.until("the renamed report is read", async () => (await count()) === 3);
  });

  test("a file over the user's size limit is refused with the limit, and nothing of it stays", async () => {
    const users = (await rig.api("GET", "/sftp-users")).body.data.sftp_users;
    const userId = users.find((u: { username: string }) => u.username === rig.target.username).sftp_user_id;
    await rig.api("PATCH", `/sftp-users/${userId}`, { max_file_mb: 1 });
    const client = await rig.sftpClient();
    await assert.rejects(
      client.put(Buffer.alloc(3 * 1024 * 1024, "y"), "/too-big.csv"),
      /larger than the limit of 1048576 bytes/,
    );
    assert.ok(!(await client.list("/")).some((f) => f.name === "too-big.csv"));
    await rig.api("PATCH", `/sftp-users/${userId}`, { max_file_mb: 512 });
  });
});

/** `sftp` uploading one file, as a child process the test can kill. */
function spawnOpenSshPut(rig: Ecc4xRig, path: string) {
  const dir = mkdtempSync(join(tmpdir(), "cqa-put-"));
  writeFileSync(join(dir, "known_hosts"), `[${rig.target.host}]:${rig.target.port} ${rig.target.hostKey}\n`);
  writeFileSync(join(dir, "askpass"), `#!/bin/sh\nprintf '%s\\n' '${sftpPassword}'\n`, { mode: 0o700 });
  writeFileSync(join(dir, "batch"), `put ${path}\n`);
  return spawn(
    "sftp",
    [
      "-o",
      `UserKnownHostsFile=${join(dir, "known_hosts")}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "PreferredAuthentications=password",
      "-o",
      "BatchMode=no",
      "-P",
      String(rig.target.port),
      "-b",
      join(dir, "batch"),
      `${rig.target.username}@${rig.target.host}`,
    ],
    {
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: dir,
        SSH_ASKPASS: join(dir, "askpass"),
        SSH_ASKPASS_REQUIRE: "force",
        DISPLAY: "none",
      },
      stdio: "ignore",
    },
  );
}
