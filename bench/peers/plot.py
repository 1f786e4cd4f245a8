"""The plot of docs/benchmarks.md: p50 latency against store size, per query and backend."""
from __future__ import annotations

from pathlib import Path

BACKENDS = {"embedded": ("Nocturne embedded", "#1f77b4"), "hbase": ("Nocturne HBase", "#ff7f0e"),
            "pg": ("PostgreSQL + q3c", "#2ca02c")}
LAYERS = {"http": ("HTTP API", "-", "o"), "query": ("query layer", "--", "s")}


def plot(results: dict, path: Path, title: str) -> None:
    """``results[size]["layers"][layer][query][backend]`` = {"p50": ms, ...}."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    sizes = sorted(results, key=int)
    queries = list(results[sizes[-1]]["layers"]["http"])
    cols = 3
    rows = (len(queries) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, queries):
        for layer, (_, style, marker) in LAYERS.items():
            for backend, (_, colour) in BACKENDS.items():
                xs, ys = [], []
                for size in sizes:
                    cell = results[size]["layers"].get(layer, {}).get(name, {}).get(backend)
                    if cell and cell.get("p50") is not None:
                        xs.append(results[size]["alerts"])
                        ys.append(cell["p50"])
                if xs:
                    ax.plot(xs, ys, style, color=colour, marker=marker, markersize=4)
        ax.set_title(name, fontsize=10)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        human = FuncFormatter(lambda v, _: f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k")
        ax.xaxis.set_major_formatter(human)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: human(v) if f"{v:g}"[0] in "25" else ""))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
        ax.tick_params(which="both", labelsize=8)
    for ax in list(axes.flat)[len(queries):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("p50 [ms]", fontsize=9)
    for ax in axes[-1, :]:
        ax.set_xlabel("alerts in the store", fontsize=9)
    handles = [plt.Line2D([], [], color=c, label=label) for label, c in BACKENDS.values()]
    handles += [plt.Line2D([], [], color="grey", linestyle=s, marker=m, label=label) for label, s, m in LAYERS.values()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
