// The app: sign-in, the outer chrome (navigation by role) and the pages, each loaded on first visit.
import {
  type ComponentType,
  type LazyExoticComponent,
  lazy,
  type ReactNode,
  Suspense,
  useEffect,
} from "react";
import type { Permission } from "./api/types.ts";
import AnalysesPageModule from "./pages/AnalysesPage.tsx";
import SignInPage from "./pages/SignInPage.tsx";
import { Link, matchPath, RouterProvider, useRouter } from "./router.tsx";
import { SessionProvider, useSession, useSessionState } from "./session.tsx";
import { EmptyState, Loading, Notice } from "./ui/kit.tsx";
import { ToastProvider } from "./ui/toast.tsx";

type Page =
  | LazyExoticComponent<ComponentType<{ params: Record<string, string> }>>
  | ComponentType<{ params: Record<string, string> }>;

interface RouteDef {
  pattern: string;
  page: Page;
  permission: Permission;
  title: string;
}

const page = (load: () => Promise<{ default: ComponentType<{ params: Record<string, string> }> }>): Page =>
  lazy(load);

// The landing page is part of the first bundle: no extra round trip, no suspended first render
// (React holds back content that appears after a fallback for a moment, which the list would pay).
const AnalysesPage = AnalysesPageModule;
const AnalysisPage = page(() => import("./pages/AnalysisPage.tsx"));
const InteractionPage = page(() => import("./pages/InteractionPage.tsx"));
const InsightsPage = page(() => import("./pages/InsightsPage.tsx"));
const ProfilesPage = page(() => import("./pages/settings/ProfilesPage.tsx"));
const ProfileEditorPage = page(() => import("./pages/settings/ProfileEditorPage.tsx"));
const RulesPage = page(() => import("./pages/settings/RulesPage.tsx"));
const RuleEditorPage = page(() => import("./pages/settings/RuleEditorPage.tsx"));
const MetadataFieldsPage = page(() => import("./pages/settings/MetadataFieldsPage.tsx"));
const UsersPage = page(() => import("./pages/settings/UsersPage.tsx"));
const ApiKeysPage = page(() => import("./pages/settings/ApiKeysPage.tsx"));
const IntegrationsPage = page(() => import("./pages/integrations/IntegrationsPage.tsx"));
const IntegrationFormPage = page(() => import("./pages/integrations/IntegrationFormPage.tsx"));
const IntegrationPage = page(() => import("./pages/integrations/IntegrationPage.tsx"));

/** Who may see integrations (the API enforces it too; changing them needs manage:integrations). */
const integrationPermission: Permission = "read:integrations";

const routes: RouteDef[] = [
  { pattern: "/analyses", page: AnalysesPage, permission: "read", title: "Conversations" },
  { pattern: "/analyses/:analysisId", page: AnalysisPage, permission: "read", title: "Conversation" },
  {
    pattern: "/interactions/:interactionId",
    page: InteractionPage,
    permission: "read",
    title: "Conversation",
  },
  { pattern: "/insights", page: InsightsPage, permission: "read", title: "Insights" },
  { pattern: "/settings/profiles", page: ProfilesPage, permission: "read", title: "Quality profiles" },
  {
    pattern: "/settings/profiles/new",
    page: ProfileEditorPage,
    permission: "configure",
    title: "New profile",
  },
  {
    pattern: "/settings/profiles/:profileId",
    page: ProfileEditorPage,
    permission: "read",
    title: "Quality profile",
  },
  { pattern: "/settings/rules", page: RulesPage, permission: "read", title: "Assignment rules" },
  { pattern: "/settings/rules/new", page: RuleEditorPage, permission: "configure", title: "New rule" },
  { pattern: "/settings/rules/:ruleId", page: RuleEditorPage, permission: "read", title: "Assignment rule" },
  {
    pattern: "/settings/metadata-fields",
    page: MetadataFieldsPage,
    permission: "read",
    title: "Metadata fields",
  },
  { pattern: "/settings/users", page: UsersPage, permission: "manage:users", title: "Users" },
  { pattern: "/settings/api-keys", page: ApiKeysPage, permission: "manage:keys", title: "API keys" },
  {
    pattern: "/integrations",
    page: IntegrationsPage,
    permission: integrationPermission,
    title: "Integrations",
  },
  {
    pattern: "/integrations/new",
    page: IntegrationFormPage,
    permission: "manage:integrations",
    title: "New integration",
  },
  {
    pattern: "/integrations/:integrationId/edit",
    page: IntegrationFormPage,
    permission: "manage:integrations",
    title: "Edit integration",
  },
  {
    pattern: "/integrations/:integrationId",
    page: IntegrationPage,
    permission: integrationPermission,
    title: "Integration",
  },
];

interface NavItem {
  to: string;
  label: string;
  permission: Permission;
}

const navigation: { heading: string | null; items: NavItem[] }[] = [
  {
    heading: null,
    items: [
      { to: "/analyses", label: "Conversations", permission: "read" },
      { to: "/insights", label: "Insights", permission: "read" },
      { to: "/integrations", label: "Integrations", permission: integrationPermission },
    ],
  },
  {
    heading: "Configuration",
    items: [
      { to: "/settings/profiles", label: "Quality profiles", permission: "review" },
      { to: "/settings/rules", label: "Assignment rules", permission: "review" },
      { to: "/settings/metadata-fields", label: "Metadata fields", permission: "review" },
      { to: "/settings/users", label: "Users", permission: "manage:users" },
      { to: "/settings/api-keys", label: "API keys", permission: "manage:keys" },
    ],
  },
];

function findRoute(path: string): { route: RouteDef; params: Record<string, string> } | null {
  // Literal segments win over parameters (/settings/rules/new before /settings/rules/:ruleId).
  const ordered = [...routes].sort((a, b) => a.pattern.split(":").length - b.pattern.split(":").length);
  for (const route of ordered) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

function CurrentPage() {
  const router = useRouter();
  const session = useSession();
  const path = router.path.replace(/\/+$/, "") || "/";
  const found = findRoute(path);
  useEffect(() => {
    document.title = found ? `${found.route.title} · cqa` : "cqa";
  }, [found]);
  const landing = path === "/" || path === "/sign-in";
  useEffect(() => {
    if (landing) router.navigate("/analyses", { replace: true });
  }, [landing, router]);
  if (landing) return null;
  if (!found) {
    return (
      <EmptyState title="There is no page here">
        <Link to="/analyses">Go to the conversations</Link>
      </EmptyState>
    );
  }
  if (!session.can(found.route.permission)) {
    return (
      <Notice kind="warning" title="Your role cannot open this page">
        You are signed in as {session.info.role}; {found.route.title.toLowerCase()} needs a role with the “
        {found.route.permission}” permission. Ask an administrator if you need it.
      </Notice>
    );
  }
  const PageComponent = found.route.page;
  return (
    <Suspense fallback={<Loading />}>
      <PageComponent key={path} params={found.params} />
    </Suspense>
  );
}

function Chrome({ children }: { children: ReactNode }) {
  const session = useSession();
  const { signOut } = useSessionState();
  const router = useRouter();
  const visible = navigation
    .map((group) => ({ ...group, items: group.items.filter((item) => session.can(item.permission)) }))
    .filter((group) => group.items.length > 0);
  const isActive = (to: string) => router.path === to || router.path.startsWith(`${to}/`);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <div>
            <strong>cqa</strong>
            <span className="brand-account">{session.account?.name ?? "Quality analysis"}</span>
          </div>
        </div>
        <nav aria-label="Main">
          {visible.map((group) => (
            <div key={group.heading ?? "main"} className="nav-group">
              {group.heading ? <p className="nav-heading">{group.heading}</p> : null}
              <ul>
                {group.items.map((item) => (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      className={isActive(item.to) ? "nav-link active" : "nav-link"}
                      aria-current={isActive(item.to) ? "page" : undefined}
                    >
                      {session.info.role === "agent" && item.to === "/analyses"
                        ? "My conversations"
                        : item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <div className="sidebar-user">
          <p className="user-name">{session.info.display_name ?? session.info.email}</p>
          <p className="user-role">
            {session.info.role}
            {Object.keys(session.info.metadata_scope).length > 0 ? " · scoped" : ""}
          </p>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function Screen() {
  const { state } = useSessionState();
  const router = useRouter();
  if (state.status === "loading") return <Loading label="Starting cqa…" />;
  if (state.status === "signed_out") return <SignInPage notice={state.notice} embedded={router.embedded} />;
  if (router.embedded) {
    return (
      <main id="main" className="main main-embedded">
        <CurrentPage />
      </main>
    );
  }
  return (
    <Chrome>
      <CurrentPage />
    </Chrome>
  );
}

export function App() {
  return (
    <RouterProvider>
      <SessionProvider>
        <ToastProvider>
          <Screen />
        </ToastProvider>
      </SessionProvider>
    </RouterProvider>
  );
}
