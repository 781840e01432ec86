"""Builds the gilscope wheel and sdist (make wheel, make sdist; README "Install").

The wheel holds the C binary, built by `make` (so the sdist builds the very
same binary from source: it needs the Debian build packages, `make deps`),
in the tiny Python package gilscope (packaging/gilscope) whose entry point
execs it; the man page and the completions go to the environment's share/.
The version is the VERSION file's.
"""
import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(HERE, "VERSION")) as f:
        return f.read().strip()


class BuildWithMake(build_py):
    """Runs make, then puts the binary into the package's bin/."""

    def run(self):
        subprocess.check_call(["make", "-C", HERE, "gilscope", "build/gilscope.1"])
        super().run()
        dest = os.path.join(self.build_lib, "gilscope", "bin")
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(os.path.join(HERE, "gilscope"), os.path.join(dest, "gilscope"))


class PlatformWheel(bdist_wheel):
    """Not pure Python (a Linux binary inside), but any Python 3: py3-none-linux_*;
    auditwheel repair then gives it its manylinux tag."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    """Installed into platlib, where auditwheel looks for binaries."""

    def has_ext_modules(self):
        return True


with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="gilscope",
    version=version(),
    description="Is this Python program GIL-bound, or does it just feel slow? "
                "A sampler for running CPython processes.",
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=["gilscope"],
    package_dir={"": "packaging"},
    entry_points={"console_scripts": ["gilscope = gilscope:main"]},
    data_files=[
        ("share/man/man1", ["build/gilscope.1"]),
        ("share/bash-completion/completions", ["completions/gilscope.bash"]),
        ("share/zsh/site-functions", ["completions/_gilscope"]),
    ],
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildWithMake, "bdist_wheel": PlatformWheel},
    options={"build": {"build_base": "build/py"}},
    zip_safe=False,
)
