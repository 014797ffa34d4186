import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../core/ids.ts";
import type { KpiResult } from "../core/qualityProfile.ts";
import { writeAnalysisRun } from "./analysisRuns.ts";
import type { Database } from "./db.ts";
import { claimJobs, enqueueJobs, type JobLease } from "./jobQueue.ts";
import { listOutbox, type OutboxMessage } from "./outbox.ts";
import {
  type AnalysisRunState,
  ensureAnalyses,
  listAnalysesOfInteraction,
  updateAnalysis,
} from "./repositories/analyses.ts";
import { getInteractionById, insertInteractions } from "./repositories/interactions.ts";
import { fixedNow, newInteraction, seedAccount, seedProfile, unique } from "./testFixtures.ts";
import { testDatabases } from "./testing.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

const results: KpiResult[] = [
  {
    kpiId: "greeting",
    optionUid: "yes",
    answer: "Yes",
    justification: "The agent greeted the customer",
    evidence: [],
    aiScore: 10,
    maxScore: 10,
  },
];

for (const backend of testDatabases()) {
  describe(`analysis run writes on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    /** An account with a profile, one interaction and its processing job claimed by `worker`. */
    async function seed(worker = "w1", leaseMs = 60_000) {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id, "Support QA");
      const interaction = newInteraction(account.id);
      await insertInteractions(db, [interaction]);
      const kind = unique("run-");
      await enqueueJobs(
        db,
        [{ kind, accountId: account.id, payload: { interactionId: interaction.id } }],
        at(0),
      );
      const [job] = await claimJobs(db, { workerId: worker, limit: 1, leaseMs, now: at(0), kinds: [kind] });
      assert.ok(job);
      return {
        account,
        profileId,
        interaction,
        kind,
        lease: { jobId: job.id, workerId: worker } as JobLease,
      };
    }

    function completed(
      s: Awaited<ReturnType<typeof seed>>,
      id: string,
      changes: Partial<AnalysisRunState> = {},
    ): AnalysisRunState {
      return {
        id,
        accountId: s.account.id,
        interactionId: s.interaction.id,
        profileId: s.profileId,
        profileVersion: 1,
        revision: 1,
        status: "completed",
        startedAt: at(1),
        completedAt: at(1),
        failureReason: null,
        scores: { aiScore: 10, qaScore: null, finalScore: 10, criticalityAdjustedScore: 10, maxScore: 10 },
        results,
        ...changes,
      };
    }

    function event(s: Awaited<ReturnType<typeof seed>>, name: string): OutboxMessage {
      return {
        id: newId(),
        accountId: s.account.id,
        channel: "webhook",
        event: name,
        dedupeKey: unique(`${name}:`),
        interactionId: s.interaction.id,
        target: "https://receiver.example/hook",
        payload: "{}",
      };
    }

    const jobExists = async (id: number) =>
      (await db.query("SELECT 1 FROM jobs WHERE id = $1", [id])).rows.length > 0;

    test("the analyses, the interaction's state, the events and the job's end are written together", async () => {
      const s = await seed();
      const analysisId = newId();
      const written = await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: { status: "completed", failureReason: null },
          analyses: [completed(s, analysisId)],
          rerunProfileIds: [s.profileId],
          events: [event(s, "INTERACTION_ANALYSIS_IN_PROGRESS"), event(s, "INTERACTION_ANALYSIS_COMPLETED")],
          lease: s.lease,
        },
        at(1),
      );
      assert.equal(written, true);
      const [analysis] = await listAnalysesOfInteraction(db, s.interaction.id);
      assert.equal(analysis?.id, analysisId);
      assert.equal(analysis?.status, "completed");
      assert.equal(analysis?.finalScore, 10);
      assert.deepEqual(analysis?.results, results);
      assert.equal((await getInteractionById(db, s.interaction.id))?.status, "completed");
      const outbox = await listOutbox(db, s.account.id, { limit: 10, offset: 0 });
      assert.equal(outbox.total, 2);
      assert.equal(await jobExists(s.lease.jobId), false, "the job ended with the write");
    });

    test("a worker that lost its job writes nothing: the worker that took it over does the work", async () => {
      const s = await seed("slow-worker", 1_000);
      // The lease ran out and another worker took the job.
      const [takenOver] = await claimJobs(db, {
        workerId: "w2",
        limit: 1,
        leaseMs: 60_000,
        now: at(5),
        kinds: [s.kind],
      });
      assert.equal(takenOver?.id, s.lease.jobId);
      const written = await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: { status: "completed" },
          analyses: [completed(s, newId())],
          rerunProfileIds: [s.profileId],
          events: [event(s, "INTERACTION_ANALYSIS_COMPLETED")],
          lease: s.lease,
        },
        at(6),
      );
      assert.equal(written, false);
      assert.deepEqual(await listAnalysesOfInteraction(db, s.interaction.id), []);
      assert.equal((await getInteractionById(db, s.interaction.id))?.status, "queued");
      assert.equal((await listOutbox(db, s.account.id, { limit: 10, offset: 0 })).total, 0);
      assert.equal(await jobExists(s.lease.jobId), true, "the job stays with the worker that holds it");
    });

    test("a failed run keeps the scores of the last completed one; a run in progress keeps them too", async () => {
      const s = await seed();
      const id = newId();
      await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: {},
          analyses: [completed(s, id)],
          rerunProfileIds: null,
          events: [],
          lease: null,
        },
        at(1),
      );
      await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: {},
          analyses: [
            completed(s, id, {
              status: "processing",
              revision: 2,
              startedAt: at(10),
              completedAt: null,
              scores: null,
              results: null,
            }),
          ],
          rerunProfileIds: null,
          events: [],
          lease: null,
        },
        at(10),
      );
      let [analysis] = await listAnalysesOfInteraction(db, s.interaction.id);
      assert.equal(analysis?.status, "processing");
      assert.equal(analysis?.revision, 2);
      assert.equal(analysis?.finalScore, 10);
      assert.deepEqual(analysis?.startedAt, at(10));
      assert.deepEqual(analysis?.completedAt, at(1), "the end of the last run is kept until this one ends");
      await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: {},
          analyses: [
            completed(s, id, {
              status: "failed",
              revision: 2,
              startedAt: null,
              completedAt: at(11),
              failureReason: "Scoring failed: boom",
              scores: null,
              results: null,
            }),
          ],
          rerunProfileIds: null,
          events: [],
          lease: s.lease,
        },
        at(11),
      );
      [analysis] = await listAnalysesOfInteraction(db, s.interaction.id);
      assert.equal(analysis?.status, "failed");
      assert.equal(analysis?.failureReason, "Scoring failed: boom");
      assert.equal(analysis?.finalScore, 10);
      assert.deepEqual(analysis?.results, results);
      assert.deepEqual(analysis?.startedAt, at(10));
    });

    test("analyses a reprocess queued for profiles no longer selected go back to their earlier result", async () => {
      const s = await seed();
      const dropped = await seedProfile(db, s.account.id, "No longer selected");
      const [old, never] = await ensureAnalyses(
        db,
        [dropped, await seedProfile(db, s.account.id, "Never scored")].map((profileId) => ({
          id: newId(),
          accountId: s.account.id,
          interactionId: s.interaction.id,
          profileId,
          profileVersion: 1,
        })),
        at(0),
      );
      assert.ok(old && never);
      await updateAnalysis(db, old.id, { status: "queued", results, finalScore: 7 }, at(0));
      await writeAnalysisRun(
        db,
        {
          interactionId: s.interaction.id,
          interaction: { status: "completed" },
          analyses: [completed(s, newId())],
          rerunProfileIds: [s.profileId],
          events: [],
          lease: s.lease,
        },
        at(1),
      );
      const byId = new Map((await listAnalysesOfInteraction(db, s.interaction.id)).map((a) => [a.id, a]));
      assert.equal(byId.get(old.id)?.status, "completed");
      assert.equal(byId.get(old.id)?.finalScore, 7);
      assert.equal(byId.get(never.id)?.status, "failed");
      assert.match(byId.get(never.id)?.failureReason ?? "", /no longer select this profile/);
    });

    test("an analysis of the same profile under another id fails the whole write, leaving nothing half done", async () => {
      const s = await seed();
      const [existing] = await ensureAnalyses(
        db,
        [
          {
            id: newId(),
            accountId: s.account.id,
            interactionId: s.interaction.id,
            profileId: s.profileId,
            profileVersion: 1,
          },
        ],
        at(0),
      );
      await assert.rejects(
        writeAnalysisRun(
          db,
          {
            interactionId: s.interaction.id,
            interaction: { status: "completed" },
            analyses: [completed(s, newId())],
            rerunProfileIds: [s.profileId],
            events: [event(s, "INTERACTION_ANALYSIS_COMPLETED")],
            lease: s.lease,
          },
          at(1),
        ),
        /duplicate key/,
      );
      const analyses = await listAnalysesOfInteraction(db, s.interaction.id);
      assert.deepEqual(
        analyses.map((a) => [a.id, a.status]),
        [[existing?.id, "queued"]],
      );
      assert.equal((await getInteractionById(db, s.interaction.id))?.status, "queued");
      assert.equal((await listOutbox(db, s.account.id, { limit: 10, offset: 0 })).total, 0);
      assert.equal(await jobExists(s.lease.jobId), true, "the job stays, to be retried");
    });
  });
}
