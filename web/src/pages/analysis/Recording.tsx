// The recording, fetched with the session and played from a local copy, so seeking to any evidence
// span works whatever the server's range support.
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import { apiUrl, authHeaders } from "../../api/client.ts";
import { formatSeconds } from "../../ui/format.ts";

export interface RecordingHandle {
  /** Plays from `seconds`; answers whether there is a recording to play. */
  playFrom(seconds: number): boolean;
}

export const Recording = forwardRef<
  RecordingHandle,
  { path: string; onTime(seconds: number): void; durationHint: number | null }
>(function Recording({ path, onTime, durationHint }, ref) {
  const audio = useRef<HTMLAudioElement>(null);
  const [source, setSource] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    let url: string | null = null;
    fetch(apiUrl(path), { credentials: "same-origin", headers: authHeaders(), signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) {
          const body = (await response.json().catch(() => null)) as { message?: string } | null;
          throw new Error(body?.message ?? `cqa answered ${response.status}`);
        }
        url = URL.createObjectURL(await response.blob());
        setSource(url);
      })
      .catch((error: Error) => {
        if (error.name !== "AbortError") setProblem(error.message);
      });
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [path]);

  useImperativeHandle(
    ref,
    () => ({
      playFrom(seconds: number) {
        const element = audio.current;
        if (!element || !source) return false;
        element.currentTime = seconds;
        void element.play().catch(() => undefined);
        return true;
      },
    }),
    [source],
  );

  if (problem) return <p className="muted">Recording not available: {problem}</p>;
  return (
    <div className="player">
      {/* biome-ignore lint/a11y/useMediaCaption: the transcript beside the player is the text alternative */}
      <audio
        ref={audio}
        controls
        preload="auto"
        src={source ?? undefined}
        aria-label="Recording"
        data-testid="recording"
        onTimeUpdate={(e) => onTime(e.currentTarget.currentTime)}
        onSeeked={(e) => onTime(e.currentTarget.currentTime)}
      />
      {!source ? <p className="muted small">Loading the recording…</p> : null}
      {durationHint ? <p className="muted small">Length {formatSeconds(durationHint)}</p> : null}
    </div>
  );
});
