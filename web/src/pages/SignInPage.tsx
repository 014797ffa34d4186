// Sign-in with the account's users (e-mail and password); the session is kept in a cookie.
import { type FormEvent, useState } from "react";
import { ApiError } from "../api/client.ts";
import { useRouter } from "../router.tsx";
import { rememberedAccount, useSessionState } from "../session.tsx";
import { Button, Notice, TextField } from "../ui/kit.tsx";

export default function SignInPage({ notice, embedded }: { notice: string | null; embedded: boolean }) {
  const { signIn } = useSessionState();
  const router = useRouter();
  const [accountId, setAccountId] = useState(() => router.search.get("account") ?? rememberedAccount());
  const [email, setEmail] = useState(() => router.search.get("email") ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await signIn(accountId, email, password);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "Sign-in failed; try again.");
    } finally {
      setPending(false);
    }
  };

  return (
    <main className={embedded ? "signin signin-embedded" : "signin"}>
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <strong>cqa</strong>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Conversation quality analysis for your contact centre.</p>
        {notice ? <Notice kind="info">{notice}</Notice> : null}
        {error ? <Notice kind="error">{error}</Notice> : null}
        <TextField
          label="Account ID"
          name="account"
          value={accountId}
          onChange={(e) => setAccountId(e.target.value)}
          required
          autoComplete="organization"
          spellCheck={false}
          hint="The account's id, as your administrator gave it to you."
        />
        <TextField
          label="E-mail"
          name="email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          autoComplete="username"
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          autoComplete="current-password"
        />
        <Button type="submit" variant="primary" busy={pending} className="btn-block">
          Sign in
        </Button>
      </form>
    </main>
  );
}
