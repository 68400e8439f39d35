// UI strings, French first.

const STRINGS = {
  fr: {
    ask: "Question",
    dashboard: "Tableau de bord",
    explore: "Explorer",
    sources: "Sources",
    login: "Clé d'API",
    logout: "Se déconnecter",
    askPlaceholder: "Quels flows ont échoué hier et pourquoi ?",
    askButton: "Demander",
    sourcesFilter: "Sources",
    collectionsFilter: "Collections (séparées par des virgules)",
    answer: "Réponse",
    citations: "Sources citées",
    plan: "Plan",
    evidence: "Graphe des preuves",
    openBrowser: "Ouvrir dans Neo4j Browser",
    copyCypher: "Copier le Cypher",
    newSession: "Nouvelle conversation",
    examples: "Exemples",
    thinking: "Recherche…",
    day: "Jour",
    load: "Afficher",
    runsPerDay: "Exécutions par jour et par statut",
    failingFlows: "Flux en échec",
    flow: "Flux",
    count: "Échecs",
    lastCause: "Dernière cause",
    why: "pourquoi ?",
    newErrors: "Nouvelles erreurs",
    technologies: "Technologies impactées",
    trends: "Tendances",
    none: "Aucun.",
    search: "Rechercher",
    searchPlaceholder: "refresh VDB, orders_qa, ORA-01555…",
    properties: "Propriétés",
    provenance: "Provenance",
    neighbourhood: "Voisinage",
    types: "Types de relations",
    ingested: "Ce qui est ingéré",
    startIngestion: "Lancer une ingestion",
    kind: "Type",
    location: "Emplacement (chemin ou URL)",
    name: "Nom",
    start: "Démarrer",
    jobs: "Tâches",
    keyPrompt: "Cette instance demande une clé d'API. Elle reste dans cet onglet seulement.",
    keyButton: "Se connecter",
    refused: "Clé refusée ou absente.",
    error: "Erreur",
    language: "Langue",
  },
  en: {
    ask: "Ask",
    dashboard: "Dashboard",
    explore: "Explore",
    sources: "Sources",
    login: "API key",
    logout: "Log out",
    askPlaceholder: "Which flows failed yesterday and why?",
    askButton: "Ask",
    sourcesFilter: "Sources",
    collectionsFilter: "Collections (comma-separated)",
    answer: "Answer",
    citations: "Citations",
    plan: "Plan",
    evidence: "Evidence graph",
    openBrowser: "Open in Neo4j Browser",
    copyCypher: "Copy the Cypher",
    newSession: "New conversation",
    examples: "Examples",
    thinking: "Searching…",
    day: "Day",
    load: "Show",
    runsPerDay: "Runs per day by status",
    failingFlows: "Failing flows",
    flow: "Flow",
    count: "Failures",
    lastCause: "Latest cause",
    why: "why?",
    newErrors: "New errors",
    technologies: "Technologies impacted",
    trends: "Trends",
    none: "None.",
    search: "Search",
    searchPlaceholder: "refresh VDB, orders_qa, ORA-01555…",
    properties: "Properties",
    provenance: "Provenance",
    neighbourhood: "Neighbourhood",
    types: "Relationship types",
    ingested: "What is ingested",
    startIngestion: "Start an ingestion",
    kind: "Kind",
    location: "Location (path or URL)",
    name: "Name",
    start: "Start",
    jobs: "Jobs",
    keyPrompt: "This instance needs an API key. It is kept in this tab only.",
    keyButton: "Log in",
    refused: "Key refused or missing.",
    error: "Error",
    language: "Language",
  },
};

export const EXAMPLES = {
  fr: [
    "Quels flows ont échoué hier et pourquoi ?",
    "Quelle opération Delphix rafraîchit une VDB à partir d'un snapshot ?",
    "Comment ajouter un endpoint qui rafraîchit une VDB depuis notre API ?",
    "Quelle technologie échoue le plus cette semaine ?",
  ],
  en: [
    "Which flows failed yesterday and why?",
    "Which code calls the Delphix VDB refresh endpoint?",
    "How do I add an endpoint that refreshes a VDB from our API?",
    "Which technology fails the most this week?",
  ],
};

let current = localStorage.getItem("flowrag.lang") || "fr";

export function lang() {
  return current;
}

export function setLang(value) {
  current = value === "en" ? "en" : "fr";
  localStorage.setItem("flowrag.lang", current);
  document.documentElement.lang = current;
}

export function t(key) {
  return (STRINGS[current] || STRINGS.fr)[key] || key;
}
