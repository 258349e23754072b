// The TriangularJacobian bundle (flowviz/static/triangular.js).
import triangular from "../views/triangular/triangular.js";

export { renderTriangular } from "../views/triangular/triangular.js";
export default triangular;
