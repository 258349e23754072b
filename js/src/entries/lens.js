// The JacobianLens bundle (flowviz/static/lens.js).
import lens from "../views/lens/lens.js";

export { renderLens } from "../views/lens/lens.js";
export default lens;
