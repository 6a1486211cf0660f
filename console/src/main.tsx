import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

function App() {
  return <main><h1>Latchkey console</h1><p>Loading…</p></main>;
}

createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
